"""The relay keeps every event while its database cannot be reached, and publishes them when it can again.

The relay reaches the real database through `MongoOutage`, which the test cuts and restores: the
relay's own pymongo client meets the outage as it would in production (dropped connections, a
server it cannot select), while writers keep storing commits on a link that is not cut.
"""
import contextlib
import json
import logging
import threading
import time
from datetime import timedelta

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from crm_platform.event_store import MongoEventStore
from crm_platform.kafka_clients import ensure_topics, make_producer
from crm_platform.leases import Lease
from crm_platform.outages import is_transient
from crm_platform.outbox_relay import OutboxRelay
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.outages import MongoOutage
from crm_platform.testing.topics import read_topic


def client_through(outage: MongoOutage, timeout_ms: int = 300) -> MongoClient:
    return MongoClient(outage.uri(), serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, tz_aware=True)


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not seen in {timeout_s} s: {what}"
        time.sleep(0.05)


@contextlib.contextmanager
def relay_running(infra, relayed, topic: str, **relay_options):
    """A relay on the link `relayed` (the one the test cuts), run on a thread until the block ends: the thread."""
    relay = OutboxRelay(MongoEventStore(relayed), topic, lambda: make_producer(infra.kafka_bootstrap, "relay"),
                        Lease(relayed["leases"], "outbox-relay", ttl=timedelta(seconds=2)), **relay_options)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"max_backoff_s": 0.5})
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=30)


def test_a_cut_is_an_outage_to_a_real_client_and_a_restore_ends_it(infra, mongo_db):
    # a client's monitor looks again every 0.5 s: long enough a server selection to see the server back
    with MongoOutage(infra.mongo_uri) as outage, client_through(outage, timeout_ms=3000) as client:
        things = client[mongo_db.name]["things"]
        things.insert_one({"_id": 1})
        outage.cut()
        with pytest.raises(PyMongoError) as raised:
            things.find_one({"_id": 1})
        assert is_transient(raised.value), "waited out by the loops, never taken for bad data"
        outage.restore()
        assert things.find_one({"_id": 1}) == {"_id": 1}


def test_the_relay_waits_a_database_outage_out_then_publishes_every_commit_once_in_order(
        infra, mongo_db, topic_namespace, caplog):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    writers = MongoEventStore(mongo_db)
    writers.ensure_indexes()
    unpublished = lambda: writers.commits.count_documents({"published": False})  # noqa: E731
    failures = lambda: [r for r in caplog.records if r.getMessage() == "outbox relay failed; retrying"]  # noqa: E731
    with MongoOutage(infra.mongo_uri) as outage, client_through(outage) as client:
        with caplog.at_level(logging.ERROR, logger="crm_platform.outbox_relay"), \
                relay_running(infra, client[mongo_db.name], topic) as thread:
            writers.append([event("a", 1)])
            wait_for(lambda: unpublished() == 0, 30, "the first commit published")
            outage.cut()
            for version in range(2, 12):  # stored while the relay cannot reach the database
                writers.append([event("a", version)])
            wait_for(lambda: len(failures()) >= 3, 30, "the relay meeting the outage, again and again")
            assert thread.is_alive() and unpublished() == 10, "it waits: no crash, nothing marked meanwhile"
            outage.restore()
            wait_for(lambda: unpublished() == 0, 60, "every commit published once the database is back")
    assert not thread.is_alive()
    assert outage.turned_away >= 1, "the relay's client kept trying to reach its database"
    records = read_topic(infra.kafka_bootstrap, topic, expected=11, settle_s=2.0)
    assert [json.loads(r.value)["aggregate_version"] for r in records] == list(range(1, 12)), (
        "nothing lost, nothing twice, in order")


def test_a_commit_whose_notice_the_outage_prevented_is_published_soon_after_it_not_an_hour_later(
        infra, mongo_db, topic_namespace):
    """An API write stores its commit, then meets the outage writing the notice: the write succeeded (201) and the
    commit waits for the relay's sweep. A relay that met the outage sweeps once it is over (chaos test, MongoDB
    stopped for 10 s: one contact stored and not projected within two minutes, before this)."""
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    writers = MongoEventStore(mongo_db)
    writers.ensure_indexes()
    unpublished = lambda: writers.commits.count_documents({"published": False})  # noqa: E731
    with MongoOutage(infra.mongo_uri) as outage, client_through(outage) as client:
        with relay_running(infra, client[mongo_db.name], topic, sweep_grace_s=1.0):
            writers.append([event("a", 1)])
            wait_for(lambda: unpublished() == 0, 30, "the first commit published (the start-up sweep is behind)")
            outage.cut()
            writers.append([event("a", 2)])
            writers.outbox.delete_many({})  # as if its notice's insert had met the outage
            time.sleep(1.5)  # the relay meets the outage
            outage.restore()
            wait_for(lambda: unpublished() == 0, 30, "the commit without a notice published after the outage")
    records = read_topic(infra.kafka_bootstrap, topic, expected=2, settle_s=1.0)
    assert [json.loads(r.value)["aggregate_version"] for r in records] == [1, 2]
