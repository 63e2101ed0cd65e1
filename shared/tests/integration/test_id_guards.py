"""Statements by `_id` with a guard on the real server: the guard judged in Python as the server judges it, and the
`_id`-alone shape taken only where the server says it would scan (crm_platform.id_guards)."""
import os

import pytest
from pymongo import MongoClient

from crm_platform import id_guards
from crm_platform.id_guards import filter_by_id, filters_by_id, matches
from crm_platform.personal_data import MongoSubjectKeyStore
from crm_platform.projections import versioned_upsert
from crm_platform.testing.servers import scans_for_equalities
from crm_platform.testing.statements import Statements
from crm_platform.testing.versioned_documents_contract import VersionedDocumentsContract
from crm_platform.versioned_documents import MongoVersionedDocuments

DOCUMENTS = [
    {"_id": "v1", "version": 1, "erased": False, "state_version": 1},
    {"_id": "v3", "version": 3, "erased": True},
    {"_id": "v2f", "version": 2.0, "labels": ["a", "b"], "gone": None},
    {"_id": "text", "version": "2"},
    {"_id": "bare"},
]
GUARDS = [
    {"version": {"$lt": 3}}, {"version": {"$lte": 2}}, {"version": {"$gt": 1}}, {"version": {"$gte": 3}},
    {"version": 2}, {"version": 3}, {"erased": {"$ne": True}}, {"erased": True}, {"gone": None},
    {"gone": {"$exists": True}}, {"gone": {"$ne": None}}, {"labels": "b"},
    {"erased": {"$ne": True}, "$or": [{"state_version": {"$lt": 2}}, {"state_version": {"$exists": False}}]},
    {"$and": [{"version": {"$gte": 1}}, {"erased": False}]},
]


@pytest.mark.parametrize("guard", GUARDS, ids=str)
def test_python_judges_each_guard_as_the_server_does(mongo_db, guard):
    mongo_db["things"].insert_many(DOCUMENTS)
    by_server = {doc["_id"] for doc in mongo_db["things"].find(guard, {"_id": 1})}
    assert {doc["_id"] for doc in DOCUMENTS if matches(doc, guard)} == by_server


def test_the_guard_stays_in_the_statement_where_the_server_does_not_scan(infra, mongo_db):
    """MongoDB, FerretDB over PostgreSQL: one statement, checked by the server, nothing read before."""
    mongo_db["things"].insert_many(DOCUMENTS)
    reads = Statements()
    with MongoClient(infra.mongo_uri, event_listeners=[reads]) as client:
        where = filter_by_id(client[mongo_db.name]["things"], "v1", {"version": {"$lt": 3}})
    if scans_for_equalities(mongo_db):
        assert where == {"_id": "v1"}
    else:
        assert where == {"_id": "v1", "version": {"$lt": 3}} and "find" not in reads.names


def test_where_the_server_would_scan_documents_are_read_by_id_and_the_guard_checked_here(mongo_db, monkeypatch):
    monkeypatch.setattr(id_guards, "server_scans_for", lambda collection, sample: True)
    mongo_db["things"].insert_many(DOCUMENTS)
    wheres = filters_by_id(mongo_db["things"], {"v1": {"version": {"$lt": 3}}, "v3": {"version": {"$lt": 3}},
                                                "missing": {"version": {"$lt": 3}}})
    assert wheres == {"v1": {"_id": "v1"}, "v3": None, "missing": None}


def test_where_the_server_would_scan_a_document_is_moved_forward_by_id_alone(mongo_db, monkeypatch):
    monkeypatch.setattr(id_guards, "server_scans_for", lambda collection, sample: True)
    things = mongo_db["things"]
    assert versioned_upsert(things, "c1", 1, {"n": 1})
    assert versioned_upsert(things, "c1", 3, {"n": 3})
    assert not versioned_upsert(things, "c1", 2, {"n": 2})
    assert things.find_one({"_id": "c1"}) == {"_id": "c1", "n": 3, "version": 3}


def test_elsewhere_a_writer_between_the_read_and_the_write_is_seen_and_not_overwritten(mongo_db, monkeypatch):
    """The compare-and-set on the version read: another writer moves the document to 5 after versioned_upsert read
    it at 1; the write at 3 then matches nothing, and reading again finds 5."""
    if scans_for_equalities(mongo_db):
        pytest.skip("the server would scan for the guard: the write goes by `_id` alone (crm_platform.id_guards)")
    things = mongo_db["things"]
    versioned_upsert(things, "c1", 1, {"n": 1})
    verdict = id_guards.server_scans_for

    def another_writer_first(collection, sample):
        things.update_one({"_id": "c1"}, {"$set": {"n": 5, "version": 5}})
        return verdict(collection, sample)

    monkeypatch.setattr(id_guards, "server_scans_for", another_writer_first)
    assert not versioned_upsert(things, "c1", 3, {"n": 3})
    assert things.find_one({"_id": "c1"}) == {"_id": "c1", "n": 5, "version": 5}


@pytest.mark.parametrize("scanning", [False, True], ids=["guard in the statement", "guard read by _id"])
def test_a_subject_s_key_is_erased_once_and_stays_erased(mongo_db, monkeypatch, scanning):
    if scanning:
        monkeypatch.setattr(id_guards, "server_scans_for", lambda collection, sample: True)
    keys = MongoSubjectKeyStore(mongo_db["keys"], os.urandom(32))
    keys.find_or_create("contact:1")
    assert keys.delete("contact:1") is True
    assert keys.delete("contact:1") is False and keys.find("contact:1") is None
    assert keys.delete("contact:never") is False and keys.is_erased("contact:never")
    assert "wrapped_key" not in mongo_db["keys"].find_one({"_id": "contact:1"})


class TestMongoVersionedDocumentsByIdAlone(VersionedDocumentsContract):
    """The read models' bulk writes, as on a server that would scan for their version guard."""

    @pytest.fixture
    def documents(self, mongo_db, monkeypatch):
        monkeypatch.setattr(id_guards, "server_scans_for", lambda collection, sample: True)
        return MongoVersionedDocuments(mongo_db["things"])

    @pytest.fixture
    def stored(self, mongo_db):
        return lambda doc_id: mongo_db["things"].find_one({"_id": doc_id})
