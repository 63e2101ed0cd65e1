"""Consumers against the real broker and database: idempotent projections and the dead-letter path."""
import contextlib
import threading
import time
from collections import Counter

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from crm_platform.event_consumer import EventConsumer
from crm_platform.heartbeat import is_fresh
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_consumer, make_producer
from crm_platform.liveness import still_working
from crm_platform.projections import versioned_upsert
from crm_platform.testing.consumers import run_until
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.outages import unreachable_mongo
from crm_platform.testing.topics import read_topic
from crm_platform.worker_runtime import WorkerLoops, supervise


def publish(bootstrap, topic, values):
    producer = make_producer(bootstrap, "test-publisher")
    for key, value in values:
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()


def test_the_same_events_delivered_twice_give_the_same_projection(infra, mongo_db, topic_namespace):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=2)
    view = mongo_db["things"]

    def project(envelope):
        versioned_upsert(view, envelope.aggregate_id, envelope.aggregate_version, {"n": envelope.payload["n"]})

    events = [event("a", v) for v in (1, 2, 3)] + [event("b", 1)]
    once = [(e.aggregate_id, e.to_json_bytes()) for e in events]
    # delivered, then delivered again in full, then its older half once more
    publish(infra.kafka_bootstrap, topic, once + once + once[:2])
    consumer = EventConsumer(
        "things.projection",
        lambda: make_consumer(infra.kafka_bootstrap, f"{topic_namespace}projection", [topic], "test"),
        lambda: make_producer(infra.kafka_bootstrap, "test-dlq"),
        project,
    )
    run_until(consumer, lambda: consumer.processed >= 10)
    assert sorted(view.find(), key=lambda d: d["_id"]) == [
        {"_id": "a", "n": 3, "version": 3},
        {"_id": "b", "n": 1, "version": 1},
    ]


def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_moves_on(infra, mongo_db, topic_namespace):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic, dead_letter_topic(topic)], partitions=1)
    applied = []
    attempts = {"poison": 0}

    def handle(envelope):
        if envelope.event_type == "PoisonHappened":
            attempts["poison"] += 1
            raise ValueError("cannot apply this event")
        applied.append(envelope.aggregate_id)

    publish(infra.kafka_bootstrap, topic, [
        ("x", b"{not json"),
        ("p", event("p", 1, kind="PoisonHappened").to_json_bytes()),
        ("g", event("g", 1).to_json_bytes()),
    ])
    group = f"{topic_namespace}dlq-test"
    consumer = EventConsumer(
        "things.dlq-test",
        lambda: make_consumer(infra.kafka_bootstrap, group, [topic], "test"),
        lambda: make_producer(infra.kafka_bootstrap, "test-dlq"),
        handle,
        max_attempts=3,
        retry_delay_s=0.01,
    )
    run_until(consumer, lambda: applied == ["g"])
    assert attempts["poison"] == 3, "bounded retries before dead-lettering"
    assert consumer.dead_lettered == 2

    dead = read_topic(infra.kafka_bootstrap, dead_letter_topic(topic), expected=2)
    assert [r.key for r in dead] == [b"x", b"p"]
    headers = [dict(r.headers) for r in dead]
    assert headers[0]["dead_letter_error"].startswith(b"MalformedEvent")
    assert headers[1]["dead_letter_error"] == b"ValueError: cannot apply this event"
    assert headers[1]["dead_letter_attempts"] == b"3"
    assert headers[1]["dead_letter_source"] == f"{topic}/0/1".encode()

    # offsets were committed: the same group starting again has nothing left to do
    again = EventConsumer("things.dlq-test", lambda: make_consumer(infra.kafka_bootstrap, group, [topic], "test"),
                          lambda: make_producer(infra.kafka_bootstrap, "test-dlq"), handle)
    kafka_consumer = make_consumer(infra.kafka_bootstrap, group, [topic], "test")
    try:
        # polled until the group gives it the partition (else "nothing handled" would prove nothing), then twice
        # more: fetched from the committed offset, any event left would come in these
        handled, deadline = 0, time.monotonic() + 30
        while not kafka_consumer.assignment() and time.monotonic() < deadline:
            handled += again.poll_once(kafka_consumer, threading.Event(), timeout_ms=500)
        handled += sum(again.poll_once(kafka_consumer, threading.Event(), timeout_ms=1000) for _ in range(2))
        assigned = kafka_consumer.assignment()
        committed = kafka_consumer.committed(TopicPartition(topic, 0))
    finally:
        kafka_consumer.close()
    assert assigned == {TopicPartition(topic, 0)} and committed == 3 and handled == 0


def test_a_batch_context_surrounds_the_events_of_a_polled_batch(infra, topic_namespace):
    topic = f"{topic_namespace}batches"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    publish(infra.kafka_bootstrap, topic, [("a", event("a", version).to_json_bytes()) for version in (1, 2, 3)])
    batches, seen, inside = [], [], []

    @contextlib.contextmanager
    def batch(envelopes):
        batches.append(len(envelopes))
        inside.append(True)
        yield
        inside.pop()

    consumer = EventConsumer(
        "batches", lambda: make_consumer(infra.kafka_bootstrap, f"{topic_namespace}g", [topic], "test"),
        lambda: make_producer(infra.kafka_bootstrap, "test"),
        lambda envelope: seen.append((bool(inside), envelope.aggregate_version)), batch_context=batch)
    run_until(consumer, lambda: len(seen) == 3)
    assert [version for _, version in seen] == [1, 2, 3]
    assert sum(batches) == 3 and all(within for within, _ in seen)  # each event handled inside its batch's block


def test_a_write_the_database_refuses_is_dead_lettered_and_the_next_account_is_applied(infra, mongo_db, topic_namespace):
    """Bad data is not an outage: the server's refusal is retried a few times, dead-lettered, and the partition moves on."""
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic, dead_letter_topic(topic)], partitions=1)
    view = mongo_db["things"]
    view.insert_one({"_id": "poison", "n": "not a number"})

    def project(envelope):  # $inc on a string: refused by every MongoDB-protocol server (a WriteError)
        view.update_one({"_id": envelope.aggregate_id}, {"$inc": {"n": 1}}, upsert=True)

    publish(infra.kafka_bootstrap, topic, [
        ("poison", event("poison", 1, account_id="acct-bad").to_json_bytes()),
        ("fine", event("fine", 1, account_id="acct-other").to_json_bytes()),
    ])
    consumer = EventConsumer(
        "things.refused", lambda: make_consumer(infra.kafka_bootstrap, f"{topic_namespace}refused", [topic], "test"),
        lambda: make_producer(infra.kafka_bootstrap, "test-dlq"), project, max_attempts=3, retry_delay_s=0.01)
    run_until(consumer, lambda: view.find_one({"_id": "fine"}) is not None)
    assert view.find_one({"_id": "fine"})["n"] == 1 and consumer.dead_lettered == 1
    [dead] = read_topic(infra.kafka_bootstrap, dead_letter_topic(topic), expected=1)
    assert dead.key == b"poison" and dict(dead.headers)["dead_letter_error"].startswith(b"WriteError")


def test_a_database_outage_is_waited_out_and_the_event_is_applied_not_dead_lettered(infra, mongo_db, topic_namespace):
    """An outage is no fault of the event: more failures than max_attempts, then the database is back."""
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic, dead_letter_topic(topic)], partitions=1)
    view = mongo_db["things"]
    failures = {"left": 5}  # more than max_attempts below
    # a real pymongo client whose server is gone: what the projection meets during an outage
    gone = unreachable_mongo()["db"]["things"]

    def project(envelope):
        if failures["left"]:
            failures["left"] -= 1
            versioned_upsert(gone, envelope.aggregate_id, envelope.aggregate_version, {"n": 1})  # raises
        versioned_upsert(view, envelope.aggregate_id, envelope.aggregate_version, {"n": 1})

    publish(infra.kafka_bootstrap, topic, [("a", event("a", 1).to_json_bytes()), ("b", event("b", 1).to_json_bytes())])
    consumer = EventConsumer(
        "things.outage", lambda: make_consumer(infra.kafka_bootstrap, f"{topic_namespace}outage", [topic], "test"),
        lambda: make_producer(infra.kafka_bootstrap, "test-dlq"), project, max_attempts=3, retry_delay_s=0.01,
        outage_wait_s=0.1)  # five waits of the worker's 1 s would only make the test slower
    run_until(consumer, lambda: view.count_documents({}) == 2)
    assert failures["left"] == 0 and consumer.dead_lettered == 0
    assert read_topic(infra.kafka_bootstrap, dead_letter_topic(topic), expected=0, timeout_s=2) == []


@contextlib.contextmanager
def committed_offsets(bootstrap, group):
    """A function giving the group's committed offset of a partition, read without joining the group."""
    reader = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=group, enable_auto_commit=False)
    try:
        yield lambda topic, partition=0: reader.committed(TopicPartition(topic, partition))
    finally:
        reader.close()


def test_an_event_handled_longer_than_max_poll_interval_keeps_the_consumer_in_its_group(infra, topic_namespace):
    """A clean-up over many contacts takes minutes: the member must not be dropped (its events then handled twice)."""
    topic = f"{topic_namespace}cleanups"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    publish(infra.kafka_bootstrap, topic, [("long", event("long", 1).to_json_bytes()),
                                           ("next", event("next", 1).to_json_bytes())])
    max_poll_s = 2.0
    calls = Counter()

    def cleanup(envelope):
        calls[envelope.aggregate_id] += 1
        if envelope.aggregate_id == "long":  # one contact at a time, for three times max_poll_interval
            end = time.monotonic() + 3 * max_poll_s
            while time.monotonic() < end:
                still_working()
                time.sleep(0.05)

    group = f"{topic_namespace}cleanup"
    consumer = EventConsumer(
        "things.cleanup",
        lambda: make_consumer(infra.kafka_bootstrap, group, [topic], "test", max_poll_interval_ms=int(max_poll_s * 1000)),
        lambda: make_producer(infra.kafka_bootstrap, "test-dlq"), cleanup)
    with committed_offsets(infra.kafka_bootstrap, group) as committed:
        run_until(consumer, lambda: committed(topic) == 2)  # dropped from its group, the consumer cannot commit
    assert calls == {"long": 1, "next": 1}, "each event handled once: the consumer was never dropped from its group"


def test_a_consumer_whose_handler_blocks_makes_the_worker_heartbeat_stale(infra, topic_namespace, tmp_path):
    """Alive is not enough: a handler blocked for good (a lock, a socket without timeout) must show in the probe."""
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    publish(infra.kafka_bootstrap, topic, [(key, event(key, 1).to_json_bytes()) for key in ("a", "blocks", "c")])
    blocked, release, handled = threading.Event(), threading.Event(), []

    def project(envelope):
        handled.append(envelope.aggregate_id)
        if envelope.aggregate_id == "blocks":
            blocked.set()
            release.wait(timeout=60)

    consumer = EventConsumer(
        "things.blocked", lambda: make_consumer(infra.kafka_bootstrap, f"{topic_namespace}blocked", [topic], "test"),
        lambda: make_producer(infra.kafka_bootstrap, "test-dlq"), project)
    stuck_after_s, max_age_s, beat = 2.0, 1.0, str(tmp_path / "heartbeat")
    stop = threading.Event()
    loops = WorkerLoops({"projections": consumer.run}, stop)
    loops.start()
    supervisor = threading.Thread(target=supervise, args=(loops, stop, beat, 0.1, stuck_after_s))
    supervisor.start()
    try:
        assert blocked.wait(timeout=45)
        blocked_at = time.monotonic()
        assert is_fresh(beat, max_age_s), "the consumer was working until it blocked"
        while is_fresh(beat, max_age_s) and time.monotonic() < blocked_at + stuck_after_s + max_age_s + 2:
            time.sleep(0.05)
        assert not is_fresh(beat, max_age_s), "a blocked consumer must not look healthy"
        release.set()
        deadline = time.monotonic() + 30
        while not (handled[-1:] == ["c"] and is_fresh(beat, max_age_s)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handled == ["a", "blocks", "c"] and is_fresh(beat, max_age_s), "healthy again once it moves on"
    finally:
        release.set()
        stop.set()
        supervisor.join(timeout=30)
        loops.join(timeout_s=30)
