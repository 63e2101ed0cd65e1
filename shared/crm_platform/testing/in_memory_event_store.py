"""An EventStore in a list, for unit tests; the event store contract keeps it honest."""
from __future__ import annotations

import itertools
import threading
from typing import Iterable, Iterator

from crm_platform.envelope import EventEnvelope
# The fake refuses the same malformed batches as MongoEventStore, with the very same check.
from crm_platform.event_store import ConcurrencyConflict, EventStore, _check_batch


class InMemoryEventStore(EventStore):
    """A fake for unit tests, held to the same contract tests as MongoEventStore."""

    def __init__(self) -> None:
        self._commits: list[list[EventEnvelope]] = []
        self._keys: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def append(self, events: list[EventEnvelope]) -> None:
        _check_batch(events)
        key = (events[0].aggregate_id, events[0].aggregate_version)
        with self._lock:
            if key in self._keys:
                raise ConcurrencyConflict(f"{events[0].aggregate_type} {key[0]} was changed by someone else")
            self._keys.add(key)
            self._commits.append(list(events))

    def load(self, aggregate_id: str) -> list[EventEnvelope]:
        return sorted(
            (e for e in itertools.chain.from_iterable(self._commits) if e.aggregate_id == aggregate_id),
            key=lambda e: e.aggregate_version,
        )

    def written_after(self, aggregate_id: str, version: int) -> bool:
        """As MongoEventStore's: is there a commit starting at `version + 1` (`version` ends a commit)."""
        return (aggregate_id, version + 1) in self._keys

    def heads_of_type(self, account_id: str, aggregate_type: str) -> dict[str, int]:
        heads: dict[str, int] = {}
        for event in self.all_events:
            if event.account_id == account_id and event.aggregate_type == aggregate_type:
                heads[event.aggregate_id] = max(heads.get(event.aggregate_id, 0), event.aggregate_version)
        return heads

    def read_all(self, batch_size: int = 500) -> Iterator[EventEnvelope]:
        yield from itertools.chain.from_iterable(list(self._commits))

    @property
    def all_events(self) -> Iterable[EventEnvelope]:
        return list(itertools.chain.from_iterable(self._commits))
