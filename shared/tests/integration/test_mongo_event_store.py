"""The event store contract on the real MongoDB server (FerretDB locally, or mongod)."""
import pytest
from pymongo.errors import AutoReconnect

from crm_platform.errors import DependencyUnavailable
from crm_platform.event_store import ConcurrencyConflict, MongoEventStore
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


class AnswerLost:
    """The commits collection of a server that applies an insert and then drops the connection."""

    def __init__(self, collection, applies: bool):
        self._collection, self._applies = collection, applies

    def insert_one(self, document):
        if self._applies:
            self._collection.insert_one(document)
        raise AutoReconnect("connection closed")

    def __getattr__(self, name):
        return getattr(self._collection, name)


def test_a_stored_commit_whose_answer_was_lost_is_a_success_not_an_error(mongo_db):
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    commits = store.commits
    store._commits = AnswerLost(commits, applies=True)
    store.append([event("a", 1)])  # no error: the commit is there
    assert [e.aggregate_version for e in store.load("a")] == [1]
    assert store.outbox.count_documents({}) == 1


def test_a_commit_that_was_not_stored_is_an_outage(mongo_db):
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    store._commits = AnswerLost(store.commits, applies=False)
    with pytest.raises(DependencyUnavailable):
        store.append([event("a", 1)])
    assert store.load("a") == []


def test_a_retried_insert_that_meets_its_own_first_attempt_is_a_success(mongo_db):
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    mine = [event("a", 1)]
    store.append(mine)
    store.append(mine)  # the same events again (a driver retry): the commit is ours, not a conflict
    with pytest.raises(ConcurrencyConflict):
        store.append([event("a", 1)])  # another writer's commit at the same revision


def test_reading_everything_skips_no_commit_that_shares_a_position(mongo_db):
    """FerretDB 1.24 may give concurrent commits the same position (its `$inc` is not atomic under concurrency):
    reading every event in batches must still return each once, an aggregate's in version order."""
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    for aggregate in ("a", "b", "c"):
        for version in (1, 2, 3):
            store.append([event(aggregate, version)])
    # what lost increments leave: every commit of a round at one position, 10 versions of "d" at one position
    for version in range(1, 11):
        store.append([event("d", version)])
    for version in (1, 2, 3):
        mongo_db["event_commits"].update_many({"version": version, "aggregate_id": {"$in": ["a", "b", "c"]}},
                                             {"$set": {"position": version}})
    mongo_db["event_commits"].update_many({"aggregate_id": "d"}, {"$set": {"position": 4}})
    read = [(e.aggregate_id, e.aggregate_version) for e in store.read_all(batch_size=2)]
    assert sorted(read) == sorted({*[(a, v) for a in "abc" for v in (1, 2, 3)], *[("d", v) for v in range(1, 11)]})
    assert len(read) == 19
    assert [v for a, v in read if a == "d"] == list(range(1, 11))
