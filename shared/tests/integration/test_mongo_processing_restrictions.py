"""The restriction projection (Art. 18) on the real MongoDB-protocol server."""
import pytest

from crm_platform.processing_restrictions import ProcessingRestrictions
from crm_platform.testing.processing_restrictions_contract import ProcessingRestrictionsContract


class TestMongoProcessingRestrictions(ProcessingRestrictionsContract):
    @pytest.fixture
    def restrictions(self, mongo_db):
        projection = ProcessingRestrictions(mongo_db["processing_restrictions"])
        projection.ensure_indexes()
        return projection
