"""A stand-in for what EventConsumer uses of a KafkaConsumer, for unit tests of the consumer loop."""
from __future__ import annotations


class FakeKafkaConsumer:
    """One poll's records (then nothing), its partitions held throughout; offsets committed are kept.

    Subclass and override `poll` or `assignment` to script a rebalance.
    """

    config = {"max_poll_interval_ms": 300_000}  # keep-alive polls (StayInGroup) only past 75 s

    def __init__(self, polled: dict) -> None:
        self._polled = polled
        self._assigned = set(polled)
        self.committed: dict = {}

    def poll(self, timeout_ms):
        polled, self._polled = self._polled, {}
        return polled

    def assignment(self):
        return set(self._assigned)

    def paused(self):
        return set()

    def pause(self, *partitions):
        pass

    def resume(self, *partitions):
        pass

    def commit(self, offsets, timeout_ms=None):
        self.committed.update({partition: meta.offset for partition, meta in offsets.items()})
