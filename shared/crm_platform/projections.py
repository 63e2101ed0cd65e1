"""Idempotent projection writes and projection rebuilds.

Projection documents keep the aggregate version they reflect, and a write
only moves a document forward: an insert when it is missing, otherwise a
compare-and-set on the version read. The record of what was applied lives
with the data it guards, so re-delivering, re-ordering or replaying events
leaves the same document.
"""
from __future__ import annotations

import logging
from typing import Callable, Iterable

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.aggregates import DomainEvent
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec

log = logging.getLogger(__name__)


def versioned_upsert(
    collection: Collection,
    doc_id: str,
    version: int,
    set_fields: dict,
    unset_fields: Iterable[str] = (),
    replace_same_version: bool = False,
) -> bool:
    """Write `set_fields` at `version` unless the document already reflects that version or a later one.

    Tries an insert first (a missing document is the common case when events
    arrive in order, and a primary-key insert is cheap everywhere), otherwise
    reads the version by `_id` and compare-and-sets on the version it read, so
    two writers can never move a document backwards. `replace_same_version`
    lets a rebuild rewrite a document computed afresh at the same version.
    Returns True if the write was applied.
    """
    while True:
        try:
            collection.insert_one({"_id": doc_id, **set_fields, "version": version})
            return True
        except DuplicateKeyError:
            pass  # it exists: compare versions
        current = collection.find_one({"_id": doc_id}, {"version": 1})
        if current is None:
            continue  # deleted between our insert and our read: try again
        if current["version"] > version or (current["version"] == version and not replace_same_version):
            return False  # already applied
        update: dict = {"$set": {**set_fields, "version": version}}
        unset = {name: "" for name in unset_fields if name not in set_fields}
        if unset:
            update["$unset"] = unset
        if collection.update_one({"_id": doc_id, "version": current["version"]}, update).matched_count == 1:
            return True
        # another writer moved the document between our read and our write: decide again


class Projection:
    """A read model in one collection, built from the events of one aggregate type, decoded by the service's codec.

    A subclass names the aggregate type and writes `project`, usually one `versioned_upsert`.
    """

    aggregate_type: str

    def __init__(self, collection: Collection, codec: EventCodec) -> None:
        self.collection = collection
        self.codec = codec

    def ensure_indexes(self) -> None:
        """Indexes of the read model's queries (none: read by _id only)."""

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        """Apply one event if it is of this read model's aggregate type; True if it changed the read model."""
        if envelope.aggregate_type != self.aggregate_type:
            return False
        return self.project(envelope, self.codec.from_envelope(envelope), rebuilding)

    def project(self, envelope: EventEnvelope, event: DomainEvent, rebuilding: bool) -> bool:
        raise NotImplementedError


def replay(events: Iterable[EventEnvelope], apply: Callable[[EventEnvelope], object], progress_every: int = 1000) -> int:
    """Apply every event in order (a rebuild); log progress; return how many were applied."""
    count = 0
    for count, event in enumerate(events, start=1):
        apply(event)
        if count % progress_every == 0:
            log.info("rebuild progress", extra={"events_replayed": count})
    return count
