"""The fake restriction projection keeps the contract the MongoDB one keeps."""
import pytest

from crm_platform.processing_restrictions import ProcessingRestrictions
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions
from crm_platform.testing.processing_restrictions_contract import ProcessingRestrictionsContract


class TestInMemoryProcessingRestrictions(ProcessingRestrictionsContract):
    @pytest.fixture
    def restrictions(self):
        return InMemoryProcessingRestrictions()


def test_the_mongo_projection_reads_and_forgets_by_id_each_never_an_in():
    """FerretDB answers an `$in` on `_id` by reading the whole collection, every account's restrictions, and every
    change of a contact asks: the fake serves `_id` equalities only, and fails the test otherwise."""
    collection = InMemoryCollection()
    for contact_id, request_ids in (("c1", ["r1"]), ("c2", []), ("c3", ["r1", "r2"])):
        collection.insert_one({"_id": f"a1:{contact_id}", "account_id": "a1", "contact_id": contact_id,
                               "request_ids": request_ids})
    restrictions = ProcessingRestrictions(collection)
    assert restrictions.restricted("a1", ["c1", "c2", "c3", "c4"]) == {"c1", "c3"}
    assert restrictions.restricted("a2", ["c1"]) == set() and restrictions.restricted("a1", []) == set()
    restrictions.forget("a1", ["c1", "c4"])
    assert restrictions.restricted("a1", ["c1", "c3"]) == {"c3"}
