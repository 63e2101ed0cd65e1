"""Personal-data keys read and created in bulk, on the real MongoDB server."""
import os

import pytest
from pymongo import MongoClient

from crm_platform.personal_data import KEYS_PER_BATCH, MongoSubjectKeyStore, PersonalDataCipher, SubjectErased
from crm_platform.testing.servers import scans_for_equalities
from crm_platform.testing.statements import Statements
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


def test_keys_made_in_bulk_are_read_back_by_their_batch_not_one_statement_each(infra, mongo_db):
    """An import's contacts travel together to every consumer: their keys come back in a statement per batch made
    (one indexed equality), where an `_id` equality each would be one per event. An erased subject among them is
    still named erased, a key made alone and one never made are read by `_id`, and no other subject is opened."""
    if scans_for_equalities(mongo_db):
        pytest.skip("FerretDB over SQLite scans for an equality on `batch`: keys are read by `_id` there")
    master = os.urandom(32)
    made = MongoSubjectKeyStore(mongo_db["subject_keys"], master)
    made.ensure_indexes()
    imported = [f"contact:{n}" for n in range(KEYS_PER_BATCH + 100)]  # two batches
    keys = made.find_or_create_many(imported)
    made.find_or_create_many(["contact:other-import"])
    made.delete("contact:7")
    alone = made.find_or_create("contact:alone")
    statements = Statements("subject_keys")
    counted = MongoSubjectKeyStore(MongoClient(infra.mongo_uri, event_listeners=[statements])[mongo_db.name][
        "subject_keys"], master)
    asked = imported[:300] + imported[-50:] + ["contact:alone", "contact:never"]
    found, erased = counted.find_many_noting_erased(asked)
    assert found == {**{s: keys[s] for s in asked if s in keys and s != "contact:7"}, "contact:alone": alone}
    assert erased == {"contact:7"}
    # a probe and a batch per batch made, then the few left by `_id`: the erased one, the lone one, the unknown one
    assert statements.names.count("find") <= 2 * 2 + 3 and "getMore" not in statements.names
    assert statements.using("$in") == []
    statements.names.clear()
    assert counted.erased_among(imported[:100]) == {"contact:7"}
    assert statements.names.count("find") <= 3


class TestMongoSubjectKeys(SubjectKeyStoreContract):
    @pytest.fixture
    def keys(self, mongo_db):
        return MongoSubjectKeyStore(mongo_db["subject_keys"], os.urandom(32))

    def test_an_erased_subject_keeps_a_marker_without_key_material(self, keys, mongo_db):
        keys.find_or_create("contact:1")
        keys.delete("contact:1")
        [marker] = mongo_db["subject_keys"].find({"_id": "contact:1"})
        assert set(marker) == {"_id", "erased_at"}


def test_keys_most_likely_made_already_are_read_first_and_only_the_missing_inserted(infra, mongo_db):
    """An account's secrets (privacy's lookup secret, asked for every polled batch of contacts) exist but for its
    first contacts: reading first spares the insert the vault refuses, a rolled-back transaction on FerretDB."""
    master = os.urandom(32)
    writer = PersonalDataCipher(MongoSubjectKeyStore(mongo_db["subject_keys"], master))
    sealed = writer.seal("lookup:acct-1", {"n": 1})
    writer.shred("lookup:acct-gone")
    statements = Statements("subject_keys")
    cipher = PersonalDataCipher(MongoSubjectKeyStore(
        MongoClient(infra.mongo_uri, event_listeners=[statements])[mongo_db.name]["subject_keys"], master))
    with cipher.keys_ready(["lookup:acct-1"], create=True, read_first=True):
        assert cipher.open(sealed) == {"n": 1}
    assert statements.names == ["find"]
    statements.names.clear()
    with cipher.keys_ready(["lookup:acct-1", "lookup:acct-new"], create=True, read_first=True):
        made = cipher.seal("lookup:acct-new", {"n": 2})
    inserts = [command for command in statements.commands if "insert" in command]
    assert [[doc["_id"] for doc in command["documents"]] for command in inserts] == [["lookup:acct-new"]]
    assert writer.open(made) == {"n": 2}  # made, and kept
    statements.names.clear()
    with pytest.raises(SubjectErased) as erased:  # as an insert first would be refused, without offering one
        with cipher.keys_ready(["lookup:acct-1", "lookup:acct-gone"], create=True, read_first=True):
            pass
    assert erased.value.subjects == ("lookup:acct-gone",) and "insert" not in statements.names


def test_an_event_s_block_within_its_batch_s_reads_nothing_the_batch_read(infra, mongo_db):
    master = os.urandom(32)
    writer = PersonalDataCipher(MongoSubjectKeyStore(mongo_db["subject_keys"], master))
    sealed = [writer.seal(f"contact:{n}", {"n": n}) for n in range(3)]
    writer.shred("contact:2")
    statements = Statements("subject_keys")
    cipher = PersonalDataCipher(MongoSubjectKeyStore(
        MongoClient(infra.mongo_uri, event_listeners=[statements])[mongo_db.name]["subject_keys"], master))
    with cipher.keys_ready(["contact:0", "contact:1", "contact:2"]):
        read = len(statements.names)
        with cipher.keys_ready(["contact:1", "contact:2"]):
            assert cipher.open(sealed[1]) == {"n": 1}
            with pytest.raises(SubjectErased):
                cipher.open(sealed[2])
        assert len(statements.names) == read
        with cipher.keys_ready(["contact:1", "contact:9"]):  # one it did not read: read now
            pass
        assert len(statements.names) == read + 1


def test_a_server_that_scans_for_batch_reads_is_read_by_id_instead(infra, mongo_db, monkeypatch):
    """Where the server says it scans for an equality on `batch` (FerretDB on SQLite: crm_platform.query_plans),
    keys are read by `_id`, never by their batch."""
    from crm_platform import personal_data

    master = os.urandom(32)
    made = MongoSubjectKeyStore(mongo_db["subject_keys"], master)
    keys = made.find_or_create_many([f"contact:{n}" for n in range(100)])
    statements = Statements("subject_keys")
    scanned = MongoSubjectKeyStore(MongoClient(infra.mongo_uri, event_listeners=[statements])[mongo_db.name][
        "subject_keys"], master)
    asked = []
    monkeypatch.setattr(personal_data, "server_scans_for", lambda collection, sample: asked.append(sample) or True)
    assert scanned.find_many([f"contact:{n}" for n in range(50)]) == {f"contact:{n}": keys[f"contact:{n}"]
                                                                       for n in range(50)}
    assert [set(sample) for sample in asked] == [{"batch"}]
    assert statements.names.count("find") == 50 and not [c for c in statements.commands if "batch" in c["filter"]]
