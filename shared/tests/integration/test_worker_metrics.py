"""A worker's metrics, scraped over HTTP as Prometheus would, on the real broker and database: an event
relayed from the outbox, the backlog and its age, the event applied, the consumer's lag."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from devinfra.ports import free_ports
from prometheus_client.parser import text_string_to_metric_families

from crm_platform.errors import DependencyUnavailable
from crm_platform.event_consumer import EventConsumer
from crm_platform.event_store import MongoEventStore
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_consumer, make_producer
from crm_platform.leases import Lease
from crm_platform.metrics import serve_worker_metrics
from crm_platform.outbox_relay import OutboxRelay
from crm_platform.testing.event_store_contract import event


@pytest.fixture(scope="module")
def scrape():
    server = serve_worker_metrics(free_ports(1)[0], addr="127.0.0.1")

    def text() -> str:
        return requests.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).text

    def scrape(name: str, **labels) -> float | None:
        text = scrape.text()
        return next((s.value for family in text_string_to_metric_families(text) for s in family.samples
                     if s.name == name and labels.items() <= s.labels.items()), None)

    scrape.text = text
    yield scrape
    server.shutdown()
    server.server_close()


def test_an_event_relayed_and_applied_shows_in_the_workers_metrics(infra, mongo_db, topic_namespace, scrape):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic, dead_letter_topic(topic)], partitions=2)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    relay = OutboxRelay(store, topic, lambda: make_producer(infra.kafka_bootstrap, "test-relay"),
                        Lease(mongo_db["leases"], "outbox-relay", ttl=timedelta(seconds=5)))
    store.append([event("a", 1)])
    store.append([event("b", 1), event("b", 2)])  # one commit, two events
    time.sleep(0.5)
    try:
        assert relay.publish_pending() == 2
        # what the relay found when it looked: two commits waiting, the oldest for half a second or more
        assert scrape("crm_outbox_backlog_commits", topic=topic) == 2
        assert scrape("crm_outbox_oldest_age_seconds", topic=topic) >= 0.5
        assert scrape("crm_outbox_events_relayed_total", topic=topic) == 3
        assert relay.publish_pending() == 0
        assert scrape("crm_outbox_backlog_commits", topic=topic) == 0
        assert scrape("crm_outbox_oldest_age_seconds", topic=topic) == 0
    finally:
        relay.reset_producer()

    poison = make_producer(infra.kafka_bootstrap, "test-poison")
    poison.send(topic, key=b"x", value=b"{not json")  # dead-lettered at once
    poison.flush()
    poison.close()
    applied = []
    consumer = EventConsumer("things.metrics-test",
                             lambda: make_consumer(infra.kafka_bootstrap, f"{topic_namespace}metrics", [topic], "test"),
                             lambda: make_producer(infra.kafka_bootstrap, "test-dlq"), applied.append,
                             lag_every_s=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 45
        while (len(applied) < 3 or consumer.dead_lettered < 1
               or scrape("crm_consumer_lag_events", consumer="things.metrics-test") is None) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # a lag measurement after the last commit
        assert scrape("crm_consumer_events_applied_total", consumer="things.metrics-test", topic=topic) == 3
        assert scrape("crm_consumer_events_dead_lettered_total", consumer="things.metrics-test", topic=topic) == 1
        assert scrape("crm_dead_letter_messages", topic=dead_letter_topic(topic)) == 1
        lags = {p: scrape("crm_consumer_lag_events", consumer="things.metrics-test", topic=topic, partition=p)
                for p in ("0", "1")}
        assert lags == {"0": 0, "1": 0}
    finally:
        stop.set()
        thread.join(timeout=30)


def test_a_relay_standing_by_exports_no_backlog_of_its_own(mongo_db, topic_namespace, scrape):
    """Two relays (two worker replicas): only the lease holder's figures may reach the alert rules."""
    topic = f"{topic_namespace}standby"
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    own, other = (Lease(mongo_db["leases"], "outbox-relay", ttl=timedelta(seconds=30)) for _ in range(2))
    relay = OutboxRelay(store, topic, producer_factory=None, lease=own)  # nothing to send: no producer needed
    assert relay.publish_pending() == 0
    assert scrape("crm_outbox_backlog_commits", topic=topic) == 0
    own.release()
    assert other.acquire_or_renew()
    assert relay.publish_pending() == 0  # standing by
    assert scrape("crm_outbox_backlog_commits", topic=topic) is None
    assert scrape("crm_outbox_oldest_age_seconds", topic=topic) is None


def test_a_backlog_larger_than_a_batch_is_counted_whole(infra, mongo_db, topic_namespace, scrape):
    topic = f"{topic_namespace}big"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    for aggregate in "abcde":
        store.append([event(aggregate, 1)])
    relay = OutboxRelay(store, topic, lambda: make_producer(infra.kafka_bootstrap, "test-relay"),
                        Lease(mongo_db["leases"], "outbox-relay", ttl=timedelta(seconds=5)), batch_size=2)
    try:
        assert relay.publish_pending() == 2
        assert scrape("crm_outbox_backlog_commits", topic=topic) == 5  # before this batch went out
        assert relay.publish_pending() == 2
        assert scrape("crm_outbox_backlog_commits", topic=topic) == 3
    finally:
        relay.reset_producer()


def lag_of(scrape_text_samples, consumer: str) -> float | None:
    """The group's lag summed over partitions, from one scrape (None before the first measurement)."""
    lags = [s.value for family in scrape_text_samples for s in family.samples
            if s.name == "crm_consumer_lag_events" and s.labels.get("consumer") == consumer]
    return sum(lags) if lags else None


def test_the_groups_lag_counts_the_events_waiting_while_the_consumer_waits_out_an_outage(infra, topic_namespace, scrape):
    """The alert on a growing lag must see a consumer stuck on an outage: it measures while it waits."""
    topic = f"{topic_namespace}waiting"
    ensure_topics(infra.kafka_bootstrap, [topic, dead_letter_topic(topic)], partitions=2)
    producer = make_producer(infra.kafka_bootstrap, "test-waiting")
    for aggregate in range(7):
        envelope = event(f"w{aggregate}", 1)
        producer.send(topic, key=envelope.aggregate_id.encode(), value=envelope.to_json_bytes())
    producer.flush()
    producer.close()
    outage, applied = threading.Event(), []
    outage.set()

    def handler(envelope):
        if outage.is_set():
            raise DependencyUnavailable("the database is down (in this test)")
        applied.append(envelope)

    name = "waiting.metrics-test"
    consumer = EventConsumer(name, lambda: make_consumer(infra.kafka_bootstrap, f"{topic_namespace}waiting", [topic], "test"),
                             lambda: make_producer(infra.kafka_bootstrap, "test-dlq"), handler, lag_every_s=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    started = time.time()
    thread.start()
    try:
        lag = lambda: lag_of(text_string_to_metric_families(scrape.text()), name)  # noqa: E731
        deadline = time.monotonic() + 45
        while lag() != 7 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lag() == 7  # all seven wait: none was handled, none committed
        first = scrape("crm_consumer_lag_measured_timestamp_seconds", consumer=name)
        assert first >= started
        time.sleep(2.5)  # the consumer still waits on the first event; it keeps measuring meanwhile
        assert scrape("crm_consumer_lag_measured_timestamp_seconds", consumer=name) > first
        assert not applied
        outage.clear()
        deadline = time.monotonic() + 45
        while (len(applied) < 7 or lag() != 0) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (len(applied), lag()) == (7, 0)
    finally:
        stop.set()
        thread.join(timeout=30)


def test_past_a_batch_the_oldest_age_keeps_the_oldest_commit_read_until_the_backlog_fits_a_batch(
        infra, mongo_db, topic_namespace, scrape):
    """The notices are read unsorted (no sort on FerretDB's hot path): a full batch is a sample, and the next
    sample must not make an old backlog look young."""
    topic = f"{topic_namespace}ages"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    for aggregate in "abcde":
        store.append([event(aggregate, 1)])
    store.outbox.update_many({}, {"$set": {"recorded_at": datetime.now(timezone.utc) - timedelta(minutes=10)}})
    relay = OutboxRelay(store, topic, lambda: make_producer(infra.kafka_bootstrap, "test-relay"),
                        Lease(mongo_db["leases"], "outbox-relay", ttl=timedelta(seconds=5)), batch_size=2)
    try:
        assert relay.publish_pending() == 2
        assert scrape("crm_outbox_oldest_age_seconds", topic=topic) >= 600
        store.outbox.update_many({}, {"$set": {"recorded_at": datetime.now(timezone.utc)}})  # the 3 left look new
        assert relay.publish_pending() == 2  # a full batch again: 1 commit not read yet
        assert scrape("crm_outbox_oldest_age_seconds", topic=topic) >= 600
        assert relay.publish_pending() == 1  # all that waited was read: the figure is exact again
        assert scrape("crm_outbox_oldest_age_seconds", topic=topic) < 60
    finally:
        relay.reset_producer()
