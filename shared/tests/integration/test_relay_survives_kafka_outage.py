"""The relay keeps every event while a real broker is stopped, and delivers them when it returns.

This test runs its own throwaway broker (so it can stop it) on free ports.
"""
import json
import shutil
import threading
import time
from datetime import timedelta

import pytest

from crm_platform.event_store import MongoEventStore
from crm_platform.kafka_clients import ensure_topics, make_producer
from crm_platform.leases import Lease
from crm_platform.outbox_relay import OutboxRelay
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.topics import read_topic

devinfra_kafka = pytest.importorskip("devinfra.kafka", reason="needs the devinfra package (make test installs it)")
from devinfra.ports import free_ports  # noqa: E402


@pytest.fixture
def own_broker(tmp_path):
    if shutil.which("java") is None:
        pytest.fail("java is needed to run a dedicated broker for this test", pytrace=False)
    port, controller = free_ports(2)
    broker = devinfra_kafka.KafkaBroker(port, controller, tmp_path / "kafka", tmp_path / "kafka.log", num_partitions=1)
    broker.start(timeout=120)
    yield broker
    broker.stop()


def test_events_written_while_kafka_is_down_are_published_once_it_is_back(own_broker, mongo_db, caplog):
    bootstrap = own_broker.bootstrap_servers
    topic = "things"
    ensure_topics(bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    # a producer made while the broker is down fails after 3 s, not the default 30 s: the relay's second failure
    # below comes sooner, the same failure
    relay = OutboxRelay(store, topic, lambda: make_producer(bootstrap, "outage-relay", bootstrap_timeout_ms=3_000),
                        Lease(mongo_db["leases"], "outbox-relay", ttl=timedelta(seconds=5)), send_timeout_s=3)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"max_backoff_s": 1.0})
    thread.start()
    try:
        store.append([event("a", 1)])
        assert len(read_topic(bootstrap, topic, expected=1)) == 1

        own_broker.stop()
        for version in range(2, 12):  # writes succeed while the broker is down
            store.append([event("a", version)])
        # The relay tries, fails and backs off meanwhile: wait until it has failed twice, not for a fixed time.
        deadline = time.monotonic() + 60
        while len(_relay_failures(caplog)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_relay_failures(caplog)) >= 2, "the relay never met the outage"
        assert store.commits.count_documents({"published": False}) == 10, "nothing marked sent while the broker is down"
        assert thread.is_alive(), "the relay outlives the outage"

        own_broker.start(timeout=120)
        deadline = time.monotonic() + 60
        while store.commits.count_documents({"published": False}) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert store.commits.count_documents({"published": False}) == 0
    finally:
        stop.set()
        thread.join(timeout=30)

    records = read_topic(bootstrap, topic, expected=11, settle_s=2.0)
    versions = [json.loads(r.value)["aggregate_version"] for r in records]
    assert sorted(set(versions)) == list(range(1, 12)), "nothing lost"
    assert versions == sorted(versions), "published in order"
    assert len(versions) == len(set(versions)), "nothing published twice"


def _relay_failures(caplog) -> list:
    return [r for r in caplog.records if r.name == "crm_platform.outbox_relay" and "retrying" in r.getMessage()]
