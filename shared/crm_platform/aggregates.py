"""What every event-sourced repository does on commit."""
from __future__ import annotations

from typing import Callable, Iterable, Protocol

from crm_platform.envelope import EventEnvelope
from crm_platform.event_store import EventStore


class Aggregate(Protocol):
    revision: int
    pending: list


def save_pending(store: EventStore, aggregates: Iterable[Aggregate], to_envelope: Callable[[object, int], EventEnvelope]) -> None:
    """Append each aggregate's new events as one commit, numbered after its stored ones, then forget them."""
    for aggregate in aggregates:
        if aggregate.pending:
            first = aggregate.revision - len(aggregate.pending) + 1
            store.append([to_envelope(event, first + i) for i, event in enumerate(aggregate.pending)])
            aggregate.pending.clear()
