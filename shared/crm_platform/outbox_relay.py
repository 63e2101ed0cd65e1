"""The outbox relay: publishes stored, unpublished commits to Kafka in order.

Writes never wait for Kafka: they only insert a commit with `published: false`.
This relay sends those events (key = aggregate id, so one aggregate stays in one
partition and in order), waits for the broker's acknowledgement (acks=all,
idempotent producer) and only then marks the commits published. If Kafka is
down, commits pile up and are sent when it returns. A crash between "sent" and
"marked" re-sends a commit: consumers are idempotent, so that is harmless.
"""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from typing import Callable

from kafka import KafkaProducer
from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.leases import Lease

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        commits: Collection,
        topic: str,
        producer_factory: Callable[[], KafkaProducer],
        lease: Lease,
        batch_size: int = 500,
        send_timeout_s: float = 30.0,
    ) -> None:
        self._commits = commits
        self._topic = topic
        self._producer_factory = producer_factory
        self._producer: KafkaProducer | None = None
        self._lease = lease
        self._batch_size = batch_size
        self._send_timeout_s = send_timeout_s

    def publish_pending(self) -> int:
        """Publish one batch of unpublished commits; return how many were marked published."""
        if not self._lease.acquire_or_renew():
            return 0
        batch = list(
            self._commits.find({"published": False}, {"aggregate_id": 1, "events": 1})
            .sort("position", ASCENDING)
            .limit(self._batch_size)
        )
        if not batch:
            return 0
        producer = self._ensure_producer()
        sent = [
            [
                producer.send(
                    self._topic,
                    key=commit["aggregate_id"].encode(),
                    value=_json_bytes(event),
                    headers=[("event_type", event["event_type"].encode()), ("event_id", event["event_id"].encode())],
                )
                for event in commit["events"]
            ]
            for commit in batch
        ]
        producer.flush(timeout=self._send_timeout_s)
        delivered = []
        for commit, futures in zip(batch, sent):
            if not all(f.is_done and f.succeeded() for f in futures):
                break  # keep order: nothing after a failed commit is marked
            delivered.append(commit["_id"])
        if delivered:
            self._commits.update_many(
                {"_id": {"$in": delivered}},
                {"$set": {"published": True, "published_at": datetime.now(timezone.utc)}},
            )
        if len(delivered) < len(batch):
            errors = [f.exception for fs in sent for f in fs if f.is_done and f.failed()]
            cause = repr(errors[0]) if errors else "no acknowledgement before the timeout"
            raise RelayError(f"{len(batch) - len(delivered)} commits not acknowledged by Kafka: {cause}")
        return len(delivered)

    def _ensure_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def reset_producer(self) -> None:
        """Drop the producer after a failure; the next batch builds a fresh one."""
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # closing a broken producer must not hide the original error
                log.exception("closing the Kafka producer failed")
            self._producer = None

    def run(self, stop: threading.Event, idle_interval_s: float = 0.05, max_backoff_s: float = 5.0) -> None:
        """Publish until `stop` is set; survive Kafka and MongoDB outages with capped backoff."""
        backoff = idle_interval_s
        while not stop.is_set():
            try:
                published = self.publish_pending()
                backoff = idle_interval_s
                if published:
                    continue
            except Exception:  # the relay must outlive any outage; it logs and retries
                log.exception("outbox relay failed; retrying", extra={"topic": self._topic, "retry_in_s": backoff})
                self.reset_producer()
                backoff = min(max_backoff_s, max(backoff * 2, 0.5))
            stop.wait(backoff)
        self.reset_producer()
        self._lease.release()


class RelayError(RuntimeError):
    """Kafka did not acknowledge part of a batch."""


def _json_bytes(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str).encode()
