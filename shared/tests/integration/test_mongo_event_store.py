"""The event store contract on the real MongoDB server (FerretDB locally, or mongod)."""
import pytest

from crm_platform.event_store import MongoEventStore
from crm_platform.testing.event_store_contract import EventStoreContract, event


class TestMongoEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, mongo_db):
        store = MongoEventStore(mongo_db)
        store.ensure_indexes()
        return store


def test_commits_wait_in_the_outbox_until_published(mongo_db):
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    store.append([event("a", 1), event("a", 2)])
    commits = list(store.commits.find())
    assert len(commits) == 1, "a command's events are one atomic document"
    assert commits[0]["published"] is False
    assert [e["aggregate_version"] for e in commits[0]["events"]] == [1, 2]
