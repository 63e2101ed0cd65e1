"""The behaviour every SubjectKeyStore must have, run against the fake and the real adapter.

Subclass `SubjectKeyStoreContract` and provide a `keys` fixture (an empty store).
"""
from __future__ import annotations

import pytest

from crm_platform.personal_data import PersonalDataCipher, SubjectErased


class SubjectKeyStoreContract:
    def test_a_key_is_created_once_and_found_again(self, keys):
        key = keys.find_or_create("contact:1")
        assert len(key) == 32 and keys.find("contact:1") == key and keys.find_or_create("contact:1") == key
        assert keys.find("contact:2") is None and not keys.is_erased("contact:2")

    def test_a_deleted_key_is_gone_and_the_subject_stays_erased(self, keys):
        keys.find_or_create("contact:1")
        assert keys.delete("contact:1") is True
        assert keys.find("contact:1") is None and keys.is_erased("contact:1")
        assert keys.delete("contact:1") is False  # safe to repeat
        with pytest.raises(SubjectErased):  # never a new key that would seal new data of an erased person
            keys.find_or_create("contact:1")
        assert keys.find("contact:1") is None

    def test_creating_in_bulk_refuses_erased_subjects_and_names_them_all(self, keys):
        for subject in ("contact:1", "contact:3"):
            keys.find_or_create(subject)
            keys.delete(subject)
        with pytest.raises(SubjectErased) as refused:
            keys.find_or_create_many(["contact:1", "contact:2", "contact:3"])
        assert sorted(refused.value.subjects) == ["contact:1", "contact:3"]
        assert keys.find_many(["contact:1", "contact:3"]) == {}

    def test_the_erased_among_many_subjects_are_named(self, keys):
        keys.find_or_create("contact:1")
        keys.find_or_create("contact:2")
        keys.delete("contact:2")
        keys.delete("contact:3")  # erased before it had a key
        assert keys.erased_among(["contact:1", "contact:2", "contact:3", "contact:4"]) == {"contact:2", "contact:3"}
        assert keys.erased_among([]) == set()

    def test_a_subject_erased_before_it_had_a_key_is_erased_too(self, keys):
        assert keys.delete("contact:9") is False
        assert keys.is_erased("contact:9")
        with pytest.raises(SubjectErased):
            keys.find_or_create("contact:9")

    def test_sealing_for_an_erased_subject_is_refused(self, keys):
        cipher = PersonalDataCipher(keys)
        cipher.seal("contact:1", {"first_name": "Louise"})
        assert cipher.shred("contact:1") is True
        with pytest.raises(SubjectErased):
            with cipher.keys_ready(["contact:1"], create=True):
                pass
        with pytest.raises(SubjectErased):
            cipher.seal("contact:1", {"first_name": "Louise"})
        with pytest.raises(SubjectErased):
            cipher.sealing_key("contact:1")
