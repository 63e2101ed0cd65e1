"""Reading a topic from the start in tests, to check what was really published."""
from __future__ import annotations

import time
import uuid

from kafka import KafkaConsumer


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0, settle_s: float = 1.0) -> list:
    """Every record of `topic` once `expected` arrived (plus `settle_s` to catch extras), or what came by the timeout."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap.split(","),
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
    )
    records: list = []
    deadline = time.monotonic() + timeout_s
    settled_at = None
    try:
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
