"""Reading a topic from the start in tests, to check what was really published."""
from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition


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
