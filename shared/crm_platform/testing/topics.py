"""Topics in tests: publishing envelopes as the relay would, and reading a topic from the start to check what was
really published."""
from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition

from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_producer


def publish_envelopes(bootstrap: str, topic: str, envelopes: list, client_id: str = "test") -> None:
    """`envelopes` on `topic` (made with its dead-letter topic), keyed by aggregate id as the relay keys them."""
    ensure_topics(bootstrap, [topic, dead_letter_topic(topic)], 1)
    producer = make_producer(bootstrap, client_id)
    try:
        for envelope in envelopes:
            producer.send(topic, key=envelope.aggregate_id.encode(), value=envelope.to_json_bytes())
        producer.flush()
    finally:
        producer.close()


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0, settle_s: float = 1.0) -> list:
    """Every record of `topic` once `expected` arrived (plus `settle_s` to catch extras), or what came by the timeout.

    Partitions are assigned directly (no consumer group), so reading does not
    wait for a group coordinator, e.g. right after a broker restart.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False, fetch_max_wait_ms=100)
    records: list = []
    deadline = time.monotonic() + timeout_s
    try:
        partitions = None
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.2)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions or [])]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        settled_at = None
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            if len(records) >= expected:
                settled_at = settled_at or time.monotonic() + settle_s
                if time.monotonic() >= settled_at:
                    break
    finally:
        consumer.close()
    return records
