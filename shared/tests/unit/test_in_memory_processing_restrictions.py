"""The fake restriction projection keeps the contract the MongoDB one keeps."""
import pytest

from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions
from crm_platform.testing.processing_restrictions_contract import ProcessingRestrictionsContract


class TestInMemoryProcessingRestrictions(ProcessingRestrictionsContract):
    @pytest.fixture
    def restrictions(self):
        return InMemoryProcessingRestrictions()
