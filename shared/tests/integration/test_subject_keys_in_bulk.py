"""Personal-data keys read and created in bulk, on the real MongoDB server."""
import os

import pytest

from crm_platform.personal_data import MongoSubjectKeyStore, PersonalDataCipher, SubjectErased
from crm_platform.testing.subject_key_store_contract import SubjectKeyStoreContract


@pytest.fixture
def cipher(mongo_db):
    return PersonalDataCipher(MongoSubjectKeyStore(mongo_db["subject_keys"], os.urandom(32)))


def test_keys_created_in_bulk_seal_what_single_reads_open(cipher):
    subjects = [f"contact:{i}" for i in range(50)]
    sealed_before = cipher.seal("contact:7", {"name": "déjà là"})  # an existing key is reused, not replaced
    with cipher.keys_ready(subjects, create=True):
        sealed = [cipher.seal(subject, {"n": i}) for i, subject in enumerate(subjects)]
    assert [cipher.open(s)["n"] for s in sealed] == list(range(50))  # outside the block: read one by one
    assert cipher.open(sealed_before) == {"name": "déjà là"}


def test_a_batch_opens_with_keys_read_at_once_and_forgets_them_after(cipher):
    sealed = [cipher.seal(f"contact:{i}", {"n": i}) for i in range(5)]
    cipher.shred("contact:3")
    with cipher.keys_ready([s["subject"] for s in sealed]):
        assert [cipher.open(s)["n"] for i, s in enumerate(sealed) if i != 3] == [0, 1, 2, 4]
        with pytest.raises(SubjectErased):
            cipher.open(sealed[3])
        cipher.shred("contact:4")  # shredded while the block runs: held for this batch only
        assert cipher.open(sealed[4]) == {"n": 4}
    with pytest.raises(SubjectErased):
        cipher.open(sealed[4])


class TestMongoSubjectKeys(SubjectKeyStoreContract):
    @pytest.fixture
    def keys(self, mongo_db):
        return MongoSubjectKeyStore(mongo_db["subject_keys"], os.urandom(32))

    def test_an_erased_subject_keeps_a_marker_without_key_material(self, keys, mongo_db):
        keys.find_or_create("contact:1")
        keys.delete("contact:1")
        [marker] = mongo_db["subject_keys"].find({"_id": "contact:1"})
        assert set(marker) == {"_id", "erased_at"}
