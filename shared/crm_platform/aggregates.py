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


def save_new_in_bulk(store: EventStore, aggregates: list[Aggregate],
                     to_envelope: Callable[[object, int], EventEnvelope]) -> list[int]:
    """Store NEW aggregates' events with one bulk append; return the indexes refused (an aggregate with that id exists).

    The pending events of every aggregate are forgotten, stored or not.
    """
    commits = [[to_envelope(event, i + 1) for i, event in enumerate(aggregate.pending)] for aggregate in aggregates]
    refused = store.append_many(commits)
    for aggregate in aggregates:
        aggregate.pending.clear()
    return refused
