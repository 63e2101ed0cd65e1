"""Read-model documents written in bulk on the real MongoDB server."""
import pytest

from crm_platform.projections import DocumentChange
from crm_platform.testing.versioned_documents_contract import VersionedDocumentsContract, doc
from crm_platform.versioned_documents import MongoVersionedDocuments


class TestMongoVersionedDocuments(VersionedDocumentsContract):
    @pytest.fixture
    def documents(self, mongo_db):
        return MongoVersionedDocuments(mongo_db["things"])

    @pytest.fixture
    def stored(self, mongo_db):
        return lambda doc_id: mongo_db["things"].find_one({"_id": doc_id})


def test_a_document_the_server_refuses_is_named_and_the_others_are_applied_or_unsure(mongo_db):
    """A `$`-prefixed field name inside a `$set` is refused by every MongoDB-protocol server; FerretDB then
    stops the statement, MongoDB goes on: either way the refused one is named and the others are not lost."""
    documents = MongoVersionedDocuments(mongo_db["things"])
    documents.insert_new([doc("bad", 1, n=1), doc("after", 1, n=1)])
    outcome = documents.move_forward([("bad", 2, DocumentChange({"n": {"$bad": 1}})),
                                      ("after", 2, DocumentChange({"n": 2}))])
    assert outcome.refused == {"bad"}
    applied = documents.versions(["after"])["after"] == 2
    assert applied or outcome.unsure == {"after"}
    assert documents.versions(["bad"]) == {"bad": 1}


def test_a_batch_the_client_cannot_even_send_is_refused_whole(mongo_db):
    documents = MongoVersionedDocuments(mongo_db["things"])
    outcome = documents.insert_new([doc("bad", 1, **{"nul\x00key": 1}), doc("good", 1)])
    assert outcome.refused >= {"bad"} and outcome.refused | set(documents.versions(["good"])) == {"bad", "good"}


def test_more_documents_than_ferretdbs_connection_pool_move_forward_in_one_statement(mongo_db):
    """FerretDB 1.24 keeps a PostgreSQL connection per matched single-document update until the command ends
    (pool: 50); each statement is sent as `multi` so that it gives it back. Not run against the code before:
    there it wedges the whole server for every client."""
    documents = MongoVersionedDocuments(mongo_db["things"])
    count = 120
    documents.insert_new([doc(f"d{i}", 1, n=1) for i in range(count)])
    outcome = documents.move_forward([(f"d{i}", 2, DocumentChange({"n": 2})) for i in range(count)])
    assert outcome.unsure == set() and outcome.refused == set()
    assert set(documents.versions([f"d{i}" for i in range(count)]).values()) == {2}
