"""The operator's dead-letter tool on the real broker: list, replay to the consumer that gave up, purge."""
import io
import json
import threading
import time

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from crm_platform.dead_letters import DeadLetters
from crm_platform.dead_letters_cli import main
from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_consumer, make_producer
from crm_platform.testing.event_store_contract import event


def publish(bootstrap, topic, envelopes):
    producer = make_producer(bootstrap, "test-publisher")
    for envelope in envelopes:
        producer.send(topic, key=envelope.aggregate_id.encode(), value=envelope.to_json_bytes())
    producer.flush()
    producer.close()


class Consumers:
    """Two consumers of one topic: `projection` fails on PoisonHappened until fixed; `audit` applies everything."""

    def __init__(self, bootstrap, namespace, topic):
        self.fixed, self.applied = False, {"projection": [], "audit": []}

        def handler(name):
            def handle(envelope):
                if name == "projection" and envelope.event_type == "PoisonHappened" and not self.fixed:
                    raise ValueError("no rule for this event yet")
                self.applied[name].append(envelope.aggregate_id)
            return handle

        self.consumers = [EventConsumer(f"things.{name}", lambda name=name: make_consumer(
            bootstrap, f"{namespace}{name}", [topic], "test"), lambda: make_producer(bootstrap, "test-dlq"),
            handler(name), max_attempts=2, retry_delay_s=0.01) for name in ("projection", "audit")]

    def run_until(self, condition, timeout_s=45.0, also_done=lambda: True):
        stop = threading.Event()
        threads = [threading.Thread(target=c.run, args=(stop,)) for c in self.consumers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout_s
        try:
            while not (condition() and also_done()) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert condition(), f"not there in time: {self.applied}"


def committed(bootstrap, group, topic):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return consumer.committed(TopicPartition(topic, 0))
    finally:
        consumer.close()


def cli(store, *argv, answer="no"):
    out = io.StringIO()
    code = main(list(argv), ask=lambda _: answer, out=out, store=store)
    return code, out.getvalue()


def test_a_dead_letter_is_listed_replayed_to_its_consumer_only_once_fixed_and_purged(infra, topic_namespace):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic, dead_letter_topic(topic)], partitions=1)
    poison = event("p", 1, kind="PoisonHappened")
    publish(infra.kafka_bootstrap, topic, [event("a", 1), poison, event("b", 1)])
    consumers = Consumers(infra.kafka_bootstrap, topic_namespace, topic)
    consumers.run_until(lambda: consumers.applied["projection"] == ["a", "b"] and len(consumers.applied["audit"]) == 3)
    store = DeadLetters(infra.kafka_bootstrap, topic_namespace)

    code, listed = cli(store, "list", "--json")
    letters = [json.loads(line) for line in listed.splitlines()]
    assert code == 0 and len(letters) == 1
    letter = letters[0]
    assert letter["ref"] == f"{dead_letter_topic(topic)}/0/0"
    assert (letter["consumer"], letter["event_type"], letter["aggregate_id"], letter["event_id"]) == (
        "things.projection", "PoisonHappened", "p", poison.event_id)
    assert letter["error"] == "ValueError: no rule for this event yet" and letter["source"] == f"{topic}/0/1"
    assert "payload" not in letter and "payload" not in cli(store, "show", letter["ref"])[1]
    assert cli(store, "list", "--consumer", "things.audit")[1].strip() == "0 dead letter(s)"

    code, said = cli(store, "replay", "--all", answer="no")
    assert code == 1 and said.endswith("not replayed\n") and letter["ref"] in said
    consumers.fixed = True
    code, said = cli(store, "replay", "--all", "--consumer", "things.projection", answer="yes")
    assert code == 0 and "\nreplayed 1;" in said
    # the audit consumer gets the replayed record too (its group committed past it): it must have skipped it
    consumers.run_until(lambda: consumers.applied["projection"] == ["a", "b", "p"],
                        also_done=lambda: committed(infra.kafka_bootstrap, f"{topic_namespace}audit", topic) == 4)
    assert consumers.applied["audit"] == ["a", "p", "b"]

    assert cli(store, "purge", "--through", letter["ref"], answer="no")[0] == 1
    assert len(store.read()) == 1, "not confirmed: nothing deleted"
    code, said = cli(store, "purge", "--through", letter["ref"], "--yes")
    assert code == 0 and said.endswith("purged 1\n") and letter["ref"] in said
    assert store.read() == [] and cli(store, "purge", "--all", "--yes") == (1, "nothing to purge\n")


def test_purge_refuses_a_topic_that_is_not_a_dead_letter_topic_and_replay_needs_refs_or_all(infra, topic_namespace):
    store = DeadLetters(infra.kafka_bootstrap, topic_namespace)
    assert cli(store, "purge", "--all", "--topic", f"{topic_namespace}things", "--yes")[0] == 2
    assert cli(store, "replay", "--yes")[0] == 2
    assert cli(store, "show", "not-a-ref")[0] == 2 and cli(store, "show", "x.dead-letter/a/1")[0] == 2


def test_a_dead_letter_that_cannot_be_replayed_is_named_and_not_counted(infra, topic_namespace):
    """One that names no consumer (every consumer would skip it) is refused; the others go; exit 1."""
    topic = f"{topic_namespace}big"
    dead = dead_letter_topic(topic)
    ensure_topics(infra.kafka_bootstrap, [topic, dead], partitions=1)
    producer = make_producer(infra.kafka_bootstrap, "test-publisher")
    producer.send(dead, key=b"k", value=event("k", 1).to_json_bytes(), headers=[
        ("dead_letter_consumer", b"things.projection"), ("dead_letter_source", f"{topic}/0/0".encode()),
        ("dead_letter_error", b"ValueError: x")])
    producer.send(dead, key=b"n", value=event("n", 1).to_json_bytes(), headers=[("dead_letter_error", b"ValueError: y")])
    producer.flush()
    producer.close()
    store = DeadLetters(infra.kafka_bootstrap, topic_namespace)
    code, said = cli(store, "replay", "--all", "--yes")
    assert code == 1
    assert f"NOT replayed {dead}/0/1: no dead_letter_consumer header" in said and "replayed 1, 1 refused" in said
