"""A polled batch of events applied to read models at once, where a read model folds its events.

Per read-model document, the batch's events are folded in order into one
change (`plan_batch`, pure), and every document is written with a few
statements whatever the batch size (`apply_in_bulk`): new documents in one
insert, the others in one update guarded by version, so re-delivered or
replayed events change nothing. What cannot be applied that way (an event that
does not fold, a document the server refused or did not confirm) is left to the
consumer's one-by-one path, which retries and dead-letters each event alone.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Iterable

from crm_platform.envelope import EventEnvelope
from crm_platform.outages import is_transient
from crm_platform.projections import DocumentChange, FoldingProjection, Projection
from crm_platform.versioned_documents import MongoVersionedDocuments, VersionedDocuments, write_forward

log = logging.getLogger(__name__)


@dataclass
class DocumentFold:
    """One document's events of a batch, folded into the change they make together."""

    doc_id: str
    first_version: int
    last_version: int
    change: DocumentChange
    event_ids: list[str] = field(default_factory=list)


@dataclass
class BatchPlan:
    folds: dict[str, DocumentFold]  # by document id, in the order of their first event
    one_by_one: set[str]  # documents with an event that does not fold: all their events go one by one


def plan_batch(projection: FoldingProjection, envelopes: Iterable[EventEnvelope]) -> BatchPlan:
    """Fold each document's events, in order; an event no newer than one folded already (delivered twice) is
    covered by it. A document with an event that fails to decode or fold is left out for one by one."""
    folds: dict[str, DocumentFold] = {}
    one_by_one: set[str] = set()
    for envelope in envelopes:
        if envelope.aggregate_type != projection.aggregate_type:
            continue
        doc_id = projection.document_id(envelope)
        if doc_id in one_by_one:
            continue
        fold = folds.get(doc_id)
        if fold is not None and envelope.aggregate_version <= fold.last_version:
            fold.event_ids.append(envelope.event_id)
            continue
        try:
            change = projection.change_for(envelope, projection.event_of(envelope))
        except Exception as exc:  # noqa: BLE001 - the event is the one-by-one path's to retry and dead-letter
            if is_transient(exc):
                raise
            log.warning("an event does not fold; its document's events go one by one",
                        extra={"event_id": envelope.event_id, "error": type(exc).__name__})
            one_by_one.add(doc_id)
            folds.pop(doc_id, None)
            continue
        if fold is None:
            version = envelope.aggregate_version
            folds[doc_id] = DocumentFold(doc_id, version, version, change, [envelope.event_id])
        else:
            fold.change = fold.change.then(change)
            fold.last_version = envelope.aggregate_version
            fold.event_ids.append(envelope.event_id)
    return BatchPlan(folds, one_by_one)


def apply_in_bulk(projection: FoldingProjection, envelopes: list[EventEnvelope],
                  documents: VersionedDocuments | None = None) -> set[str]:
    """Apply a batch's events to this read model at once; the ids of the events applied (or found applied
    before). The caller applies the others one by one, in order. Outages raise (wait and call again)."""
    folds = plan_batch(projection, envelopes).folds
    documents = documents or MongoVersionedDocuments(projection.collection)
    # A document whose first event here is its first (version 1) should not exist: insert it, no read first.
    left = write_forward(documents, {fold.doc_id: (fold.last_version, fold.change) for fold in folds.values()},
                         {fold.doc_id for fold in folds.values() if fold.first_version == 1},
                         prepare_new=projection.new_documents)
    return {event_id for fold in folds.values() if fold.doc_id not in left for event_id in fold.event_ids}


class BatchingProjection(Projection):
    """A read model that writes a polled batch's events itself, not folded per document (e.g. one insert of every
    entry the batch makes): `apply_batch` says which events it applied; the others go one by one."""

    def apply_batch(self, envelopes: list[EventEnvelope]) -> set[str]:
        raise NotImplementedError


class ReadModels:
    """The read models a consumer feeds. Around a polled batch (`batch`), those that fold their events, or write
    a batch themselves, get the whole batch at once; then each event (`apply`) goes to every read model that did
    not take it so."""

    def __init__(self, read_models: list[Projection]) -> None:
        self.read_models = read_models
        self._applied = threading.local()  # per consumer thread: read model -> event ids it applied in bulk

    @contextlib.contextmanager
    def batch(self, envelopes: list[EventEnvelope]):
        self._applied.by_model = {
            id(model): apply_in_bulk(model, envelopes) if isinstance(model, FoldingProjection)
            else model.apply_batch(envelopes)
            for model in self.read_models if isinstance(model, (FoldingProjection, BatchingProjection))}
        try:
            yield
        finally:
            self._applied.by_model = {}

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> None:
        """Give one event to every read model (each takes the aggregate types it builds from)."""
        applied = getattr(self._applied, "by_model", {})
        for model in self.read_models:
            if envelope.event_id not in applied.get(id(model), ()):
                model.apply(envelope, rebuilding=rebuilding)
