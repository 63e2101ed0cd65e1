"""Read your own writes: a read waits, bounded, until the read model has caught up with the event store.

Writes are acknowledged once their commit is in the event store; the worker
projects them a little later (tens of milliseconds, more under load). A read
that must reflect every acknowledged write first asks the event store how far
each aggregate it shows has got (its head: an indexed read), then reads the
read model until every document is at least that version. If the worker is
down or far behind, the wait ends with ReadModelBehind (503, retry shortly)
rather than an answer that silently misses a write the client was told of.
Lists of contacts stay eventually consistent (docs/api.md says so).
"""
from __future__ import annotations

import time
from typing import Callable, Mapping

from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from crm_platform.errors import DependencyUnavailable
from crm_platform.event_store import EventStore
from crm_platform.mongo import translated

PAUSE_SECONDS = 0.015


class ReadModelBehind(DependencyUnavailable):
    title = "Read model catching up"
    slug = "read-model-behind"

    def __init__(self) -> None:
        super().__init__("a recent change is not readable yet (the worker is behind or stopped); retry shortly",
                         retry_after=1)


def document_caught_up(collection: Collection, store: EventStore, account_id: str, doc_id: str,
                       wait: float, aggregate_id: str | None = None) -> dict | None:
    """The read-model document `doc_id` once it reflects every stored event of its aggregate (by default the
    aggregate with the same id); None if there is none. Another account's aggregate is not waited for."""
    head = store.head(aggregate_id or doc_id)
    if head is None or head.account_id != account_id:
        return _find_one(collection, doc_id)
    return _until(lambda: _find_one(collection, doc_id),
                  lambda doc: doc is not None and doc.get("version", 0) >= head.version, wait)


def versions_caught_up(read_versions: Callable[[], Mapping[str, int]], heads: Mapping[str, int],
                       wait: float) -> Mapping[str, int]:
    """`read_versions()` (read-model document id -> version) once each id in `heads` is at its head version."""
    return _until(read_versions, lambda versions: all(versions.get(doc_id, 0) >= version
                                                      for doc_id, version in heads.items()), wait)


def _until(read: Callable, reached: Callable[[object], bool], wait: float):
    deadline = time.monotonic() + wait
    while not reached(value := read()):
        if time.monotonic() >= deadline:
            raise ReadModelBehind()
        time.sleep(PAUSE_SECONDS)
    return value


def _find_one(collection: Collection, doc_id: str) -> dict | None:
    try:
        return collection.find_one({"_id": doc_id})
    except PyMongoError as exc:
        raise translated(exc, "read model") from None
