import os

import pytest
from cryptography.exceptions import InvalidTag

from crm_platform import personal_data
from crm_platform.personal_data import MongoSubjectKeyStore, PersonalDataCipher, SubjectErased, is_sealed
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore


def test_sealed_fields_open_with_the_subject_key():
    cipher = PersonalDataCipher(InMemorySubjectKeyStore())
    sealed = cipher.seal("contact:1", {"first_name": "Louise", "emails": ["l@example.fr"]})
    assert is_sealed(sealed)
    assert "Louise" not in str(sealed)
    assert cipher.open(sealed) == {"first_name": "Louise", "emails": ["l@example.fr"]}


def test_after_shredding_the_subject_nothing_opens():
    cipher = PersonalDataCipher(InMemorySubjectKeyStore())
    sealed = cipher.seal("contact:1", {"first_name": "Louise"})
    other = cipher.seal("contact:2", {"first_name": "Paul"})
    assert cipher.shred("contact:1") is True
    with pytest.raises(SubjectErased):
        cipher.open(sealed)
    assert cipher.open(other) == {"first_name": "Paul"}


def test_a_ciphertext_moved_to_another_subject_does_not_open():
    cipher = PersonalDataCipher(InMemorySubjectKeyStore())
    sealed = cipher.seal("contact:1", {"first_name": "Louise"})
    cipher.seal("contact:2", {})
    with pytest.raises(InvalidTag):
        cipher.open({**sealed, "subject": "contact:2"})


def test_bytes_open_only_for_their_subject_and_context_and_not_after_shredding():
    cipher = PersonalDataCipher(InMemorySubjectKeyStore())
    sealed = cipher.sealing_key("contact:1").seal(b"%PDF-1.7 contrat", b"blob:000000")
    assert b"contrat" not in sealed
    assert cipher.opening_key("contact:1").open(sealed, b"blob:000000") == b"%PDF-1.7 contrat"
    with pytest.raises(InvalidTag):
        cipher.opening_key("contact:1").open(sealed, b"blob:000001")
    cipher.sealing_key("contact:2")
    with pytest.raises(InvalidTag):
        cipher.opening_key("contact:2").open(sealed, b"blob:000000")
    cipher.shred("contact:1")
    with pytest.raises(SubjectErased):
        cipher.opening_key("contact:1")


def test_a_batchs_keys_are_read_by_id_each_however_many_there_are():
    """A `$in` reads the whole vault on FerretDB: the fake serves `_id` equalities only, and fails the test otherwise."""
    vault = InMemoryCollection()
    keys = MongoSubjectKeyStore(vault, os.urandom(32))
    made = {f"contact:{i}": keys.find_or_create(f"contact:{i}") for i in range(60)}
    vault.insert_one({"_id": "contact:60", "erased_at": "2026-01-01"})  # an erasure marker: no key
    wanted = [f"contact:{i}" for i in range(0, 70)]  # more than FEW_IDS, one erased, some unknown
    assert keys.find_many(wanted) == made


def test_bytes_opened_within_a_batch_use_the_key_it_read_and_none_opens_once_the_block_ends_after_a_shred():
    class CountingKeys(InMemorySubjectKeyStore):
        reads: list = []

        def find(self, subject):
            self.reads.append(subject)
            return super().find(subject)

    keys = CountingKeys()
    cipher = PersonalDataCipher(keys)
    sealed = cipher.sealing_key("billing-document:1").seal(b"%PDF-1.7 facture", b"blob:1")
    with cipher.keys_ready(["billing-document:1"]):
        keys.reads.clear()  # after the batch's one read
        assert cipher.opening_key("billing-document:1").open(sealed, b"blob:1") == b"%PDF-1.7 facture"
        assert keys.reads == []  # a privacy export's PDFs: no read of the vault each
    cipher.shred("billing-document:1")
    with pytest.raises(SubjectErased):
        cipher.opening_key("billing-document:1")


class VaultReads(InMemorySubjectKeyStore):
    """Notes each subject the cipher asks the vault for (the fake's batch reads and creations ask `find` and
    `find_or_create` for each)."""

    def __init__(self):
        super().__init__()
        self.asked = []

    def find(self, subject):
        self.asked.append(subject)
        return super().find(subject)

    def find_or_create(self, subject):
        self.asked.append(subject)
        return super().find_or_create(subject)


def test_within_a_batch_a_subject_found_erased_is_erased_without_reading_the_vault_again():
    """A person's 50 cards projected right after their erasure: one read of their (shredded) key, not 50."""
    keys = VaultReads()
    cipher = PersonalDataCipher(keys)
    sealed = [cipher.seal("contact:1", {"title": f"Projet {n} de Louise"}) for n in range(3)]
    cipher.shred("contact:1")
    with cipher.keys_ready(["contact:1", "task:new"]):
        keys.asked.clear()
        for value in sealed:
            with pytest.raises(SubjectErased):
                cipher.open(value)
        assert keys.asked == []
        # one without a key nor a marker is no erasure: a key made meanwhile (here, or by another process) opens
        made = cipher.seal("task:new", {"title": "Rappeler"})
        assert cipher.open(made) == {"title": "Rappeler"}
        with cipher.keys_ready(["task:new"]):  # nested: the outer block's erased subjects stay erased
            with pytest.raises(SubjectErased):
                cipher.open(sealed[0])
            assert cipher.open(made) == {"title": "Rappeler"}


def test_a_copy_sealed_with_an_existing_key_never_makes_one_and_goes_with_the_subject():
    keys = InMemorySubjectKeyStore()
    cipher = PersonalDataCipher(keys)
    with pytest.raises(SubjectErased):
        cipher.seal_with_existing_key("contact:new", {"name": "Ana"})  # no key: none made
    assert keys.find("contact:new") is None
    cipher.seal("contact:c1", {"name": "Élodie"})
    copy = cipher.seal_with_existing_key("contact:c1", {"values": ["Élodie Marchand"]})
    assert cipher.open(copy) == {"values": ["Élodie Marchand"]}
    cipher.shred("contact:c1")
    with pytest.raises(SubjectErased):
        cipher.open(copy)
    with pytest.raises(SubjectErased):
        cipher.seal_with_existing_key("contact:c1", {"values": []})


def test_a_lasting_secret_is_read_once_per_process_and_other_keys_every_block():
    vault = VaultReads()
    cipher = PersonalDataCipher(vault, lasting=("identity-claims:",))
    first = cipher.secret("identity-claims:acct-1")
    sealed = cipher.seal("contact:1", {"first_name": "Louise"})
    vault.asked.clear()
    for _ in range(3):
        assert cipher.secret("identity-claims:acct-1") == first
        with cipher.keys_ready(["identity-claims:acct-1", "contact:1"]):
            assert cipher.open(sealed) == {"first_name": "Louise"}
    assert vault.asked == ["contact:1"] * 3  # the contact's key every block, the account's secret never again
    assert PersonalDataCipher(vault, lasting=("identity-claims:",)).secret("identity-claims:acct-1") == first


def test_a_lasting_secret_read_in_a_block_is_kept_after_it_and_one_not_found_is_not():
    vault = VaultReads()
    cipher = PersonalDataCipher(vault, lasting=("privacy-lookup:",))
    with cipher.keys_ready(["privacy-lookup:acct-1"], create=True, read_first=True):
        made = cipher.secret("privacy-lookup:acct-1")
    with cipher.keys_ready(["privacy-lookup:acct-2"]):  # none yet: nothing kept, read again when needed
        pass
    vault.asked.clear()
    with cipher.keys_ready(["privacy-lookup:acct-1", "privacy-lookup:acct-2"]):
        assert cipher.secret("privacy-lookup:acct-1") == made
    assert vault.asked == ["privacy-lookup:acct-2"]


def test_a_lasting_secret_is_never_shredded_and_every_other_key_still_is():
    cipher = PersonalDataCipher(InMemorySubjectKeyStore(), lasting=("identity-claims:",))
    cipher.secret("identity-claims:acct-1")
    with pytest.raises(ValueError):
        cipher.shred("identity-claims:acct-1")
    sealed = cipher.seal("contact:1", {"first_name": "Louise"})
    with cipher.keys_ready(["contact:1"]):
        cipher.open(sealed)
    assert cipher.shred("contact:1") is True
    with pytest.raises(SubjectErased):
        cipher.open(sealed)


def test_the_kept_secrets_are_bounded(monkeypatch):
    monkeypatch.setattr(personal_data, "LASTING_KEPT", 2)
    vault = VaultReads()
    cipher = PersonalDataCipher(vault, lasting=("identity-claims:",))
    for account in ("a", "b", "c"):
        cipher.secret(f"identity-claims:{account}")
    vault.asked.clear()
    cipher.secret("identity-claims:c")  # kept after the others were forgotten
    cipher.secret("identity-claims:a")  # forgotten at the bound: read again
    assert vault.asked == ["identity-claims:a"]
