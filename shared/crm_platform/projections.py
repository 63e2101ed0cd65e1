"""Idempotent projection writes and projection rebuilds.

Projection documents keep the aggregate version they reflect, and a write
only moves a document forward: an insert when it is missing, otherwise a
compare-and-set on the version read. The record of what was applied lives
with the data it guards, so re-delivering, re-ordering or replaying events
leaves the same document.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.aggregates import DomainEvent
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.id_guards import compare_and_set

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentChange:
    """What events do to a read-model document: fields set, fields removed, and fields that only move
    forward (`forward`, written as `$max`: e.g. a last activity that other aggregates' events move too)."""

    set: dict
    unset: tuple[str, ...] = ()
    forward: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if set(self.forward) & (set(self.set) | set(self.unset)):
            raise ValueError("a field moves forward or is set, not both")

    def then(self, later: "DocumentChange") -> "DocumentChange":
        """This change followed by `later`, as one: what applying both in turn leaves."""
        kept = {name: value for name, value in self.set.items() if name not in later.unset}
        unset = [name for name in self.unset if name not in later.set and name not in later.forward]
        forward = {name: value for name, value in self.forward.items() if name not in later.unset and name not in later.set}
        for name, value in later.forward.items():
            if name in kept:  # set, then moved forward: still one value to set
                kept[name] = max(kept[name], value)
            else:
                forward[name] = max(forward[name], value) if name in forward else value
        return DocumentChange({**kept, **later.set}, tuple(dict.fromkeys([*unset, *later.unset])), forward)

    def document(self, doc_id: str, version: int) -> dict:
        """The whole document, at `version`, for a document that does not exist yet."""
        return {"_id": doc_id, **self.set, **self.forward, "version": version}

    def update(self, version: int) -> dict:
        """The update that moves an existing document to `version`."""
        update: dict = {"$set": {**self.set, "version": version}}
        unset = {name: "" for name in self.unset if name not in self.set}
        if unset:
            update["$unset"] = unset
        if self.forward:
            update["$max"] = dict(self.forward)
        return update


def versioned_upsert(
    collection: Collection,
    doc_id: str,
    version: int,
    set_fields: dict,
    unset_fields: Iterable[str] = (),
    replace_same_version: bool = False,
    forward_fields: dict | None = None,
    prepare_insert: Callable[[dict], dict] | None = None,
) -> bool:
    """Write `set_fields` at `version` unless the document already reflects that version or a later one.

    Tries an insert first (a missing document is the common case when events
    arrive in order, and a primary-key insert is cheap everywhere), otherwise
    reads the version by `_id` and compare-and-sets on the version it read, so
    two writers can never move a document backwards (except on a server that would
    scan for that guard, FerretDB over SQLite: crm_platform.id_guards). `replace_same_version`
    lets a rebuild rewrite a document computed afresh at the same version;
    `forward_fields` only ever move forward (`$max`). `prepare_insert` completes a document about to be
    inserted (e.g. with a number reserved for it): it is called only once the document was found missing.
    Returns True if the write was applied.
    """
    change = DocumentChange(set_fields, tuple(unset_fields), forward_fields or {})
    while True:
        # without prepare_insert, insert first: a missing document is the common case
        if prepare_insert is None or collection.find_one({"_id": doc_id}, {"_id": 1}) is None:
            try:
                document = change.document(doc_id, version)
                collection.insert_one(prepare_insert(document) if prepare_insert else document)
                return True
            except DuplicateKeyError:
                pass  # it exists: compare versions
        current = collection.find_one({"_id": doc_id}, {"version": 1})
        if current is None:
            continue  # deleted between our insert and our read: try again
        if current["version"] > version or (current["version"] == version and not replace_same_version):
            return False  # already applied
        where = compare_and_set(collection, {"_id": doc_id, "version": current["version"]})
        if collection.update_one(where, change.update(version)).matched_count == 1:
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

    def event_of(self, envelope: EventEnvelope) -> DomainEvent:
        """The domain event an envelope carries (a subclass may read an unreadable one as another)."""
        return self.codec.from_envelope(envelope)

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        """Apply one event if it is of this read model's aggregate type; True if it changed the read model."""
        if envelope.aggregate_type != self.aggregate_type:
            return False
        return self.project(envelope, self.event_of(envelope), rebuilding)

    def project(self, envelope: EventEnvelope, event: DomainEvent, rebuilding: bool) -> bool:
        raise NotImplementedError


class FoldingProjection(Projection):
    """A read model whose documents are folded from events: the subclass says, without I/O, what an event
    does to its document (`change_for`); the kernel writes it, one event at a time here, or a polled batch
    of events at once (crm_platform.projection_batches)."""

    def document_id(self, envelope: EventEnvelope) -> str:
        """The read-model document an event of this aggregate type moves (the aggregate's by default)."""
        return envelope.aggregate_id

    def change_for(self, envelope: EventEnvelope, event: DomainEvent) -> DocumentChange:
        """What this event does to its document (pure)."""
        raise NotImplementedError

    # Set by a read model whose new documents get fields only an insert sets, with I/O (e.g. numbers reserved
    # for them): `new_documents(documents)` completes documents about to be inserted, in place, one or many.
    new_documents: Callable[[list[dict]], None] | None = None

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type != self.aggregate_type:
            return False
        change = self.change_for(envelope, self.event_of(envelope))
        return versioned_upsert(self.collection, self.document_id(envelope), envelope.aggregate_version, change.set,
                                change.unset, replace_same_version=rebuilding, forward_fields=change.forward,
                                prepare_insert=self._prepare_insert if self.new_documents else None)

    def _prepare_insert(self, document: dict) -> dict:
        self.new_documents([document])
        return document


def replay(events: Iterable[EventEnvelope], apply: Callable[[EventEnvelope], object], progress_every: int = 1000) -> int:
    """Apply every event in order (a rebuild); log progress; return how many were applied."""
    count = 0
    for count, event in enumerate(events, start=1):
        apply(event)
        if count % progress_every == 0:
            log.info("rebuild progress", extra={"events_replayed": count})
    return count
