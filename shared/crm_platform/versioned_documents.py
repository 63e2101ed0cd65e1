"""Read-model documents written many at once, each only ever moved forward by version.

The port a batch of folded events is written through (crm_platform.projection_batches):
new documents in one insert, the others in one update guarded by version, and
whatever the server did not confirm document by document told apart by reading
versions. A document the server refuses is reported, not raised: its events are
then applied one by one, where a bad one is retried and dead-lettered alone.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, field
from typing import Callable

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from crm_platform.id_guards import filters_by_id
from crm_platform.mongo import DUPLICATE_KEY, find_by_ids
from crm_platform.outages import is_transient
from crm_platform.projections import DocumentChange

log = logging.getLogger(__name__)

UPDATES_PER_STATEMENT = 500  # keeps one update command well under the 16 MB a command may take


@dataclass
class WriteOutcome:
    """What a bulk write could not confirm; every other document was written."""

    refused: set = field(default_factory=set)  # the server refused the write (or failed otherwise, not an outage)
    existing: set = field(default_factory=set)  # an insert found the document there already
    unsure: set = field(default_factory=set)  # an update the server did not confirm (applied, or found newer)


class VersionedDocuments(abc.ABC):
    """A read model's documents, each holding the `version` of the last event it reflects."""

    @abc.abstractmethod
    def insert_new(self, documents: list[dict]) -> WriteOutcome:
        """Insert documents that should not exist yet; those that do are `existing`, left as they are."""

    @abc.abstractmethod
    def move_forward(self, changes: list[tuple[str, int, DocumentChange]]) -> WriteOutcome:
        """Apply each (id, version, change) to its document if the document is at an older version."""

    @abc.abstractmethod
    def versions(self, doc_ids: list[str]) -> dict[str, int]:
        """The version of each of these documents that exists."""


class MongoVersionedDocuments(VersionedDocuments):
    """In a MongoDB collection, by `_id`: indexed on every server, pushed down by FerretDB."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    def insert_new(self, documents: list[dict]) -> WriteOutcome:
        if not documents:
            return WriteOutcome()
        try:
            self._collection.insert_many(documents, ordered=False)
            return WriteOutcome()
        except BulkWriteError as exc:  # unordered: every document without an error is stored
            errors = exc.details.get("writeErrors", [])
            return WriteOutcome(
                refused={documents[e["index"]]["_id"] for e in errors if e.get("code") != DUPLICATE_KEY},
                existing={documents[e["index"]]["_id"] for e in errors if e.get("code") == DUPLICATE_KEY})
        except Exception as exc:  # noqa: BLE001 - an outage is waited out by the consumer; else one by one
            return self._all_refused(exc, [doc["_id"] for doc in documents])

    def move_forward(self, changes: list[tuple[str, int, DocumentChange]]) -> WriteOutcome:
        outcome = WriteOutcome()
        for start in range(0, len(changes), UPDATES_PER_STATEMENT):
            chunk = changes[start:start + UPDATES_PER_STATEMENT]
            part = self._update(chunk)
            outcome.refused |= part.refused
            outcome.unsure |= part.unsure
        return outcome

    def _update(self, changes: list[tuple[str, int, DocumentChange]]) -> WriteOutcome:
        # One `update` command rather than `bulk_write`: FerretDB 1.24 answers an update with a write error
        # without `nModified` (pymongo's bulk_write then raises KeyError) and stops at that error even when
        # unordered. Its reply says how many matched and which failed: if not all matched, or one failed,
        # the others are unsure (MongoDB went on, FerretDB did not) and their versions are read.
        # `multi` although `_id` matches one document at most: FerretDB 1.24 keeps the PostgreSQL connection of
        # a single-document statement that matched until the whole command ends, and waits for another
        # connection for the next one; past its pool (50) it waits for ever, and so does every client of the
        # server. A multi statement reads its result to the end and gives the connection back at once.
        # Where the server would scan for the guard (FerretDB over SQLite), the versions are read first and the
        # documents found behind updated by `_id` alone (crm_platform.id_guards); the others are left unsure.
        try:
            wheres = filters_by_id(self._collection, {doc_id: {"version": {"$lt": version}}
                                                      for doc_id, version, _ in changes})
        except Exception as exc:  # noqa: BLE001 - an outage is waited out by the consumer
            return self._all_refused(exc, [doc_id for doc_id, _, _ in changes])
        skipped = {doc_id for doc_id, where in wheres.items() if where is None}
        changes = [(doc_id, version, change) for doc_id, version, change in changes if doc_id not in skipped]
        if not changes:
            return WriteOutcome(unsure=skipped)
        updates = [{"q": wheres[doc_id], "u": change.update(version), "multi": True}
                   for doc_id, version, change in changes]
        ids = [doc_id for doc_id, _, _ in changes]
        try:
            reply = self._collection.database.command("update", self._collection.name, updates=updates, ordered=False)
        except Exception as exc:  # noqa: BLE001 - an outage is waited out by the consumer; else one by one
            return self._all_refused(exc, ids)
        refused = {ids[error["index"]] for error in reply.get("writeErrors", [])}
        if not refused and reply.get("n") == len(changes):
            return WriteOutcome(unsure=skipped)
        return WriteOutcome(refused=refused, unsure=(set(ids) - refused) | skipped)

    def versions(self, doc_ids: list[str]) -> dict[str, int]:
        return {doc["_id"]: doc["version"] for doc in find_by_ids(self._collection, doc_ids, {"version": 1})}

    def _all_refused(self, exc: Exception, ids: list[str]) -> WriteOutcome:
        if is_transient(exc):
            raise exc
        log.warning("a bulk write of read-model documents failed; their events go one by one",
                    extra={"collection": self._collection.name, "documents": len(ids), "error": type(exc).__name__})
        return WriteOutcome(refused=set(ids))


def write_forward(documents: VersionedDocuments, changes: dict[str, tuple[int, DocumentChange]],
                  new: set[str], prepare_new: Callable[[list[dict]], None] | None = None) -> set[str]:
    """Write each (version, change) by document id, only forward: those whose first event is here (`new`) inserted
    in one statement, the others (and those an insert found there) updated in one guarded by version; the ids of
    those refused or found behind, whose events the caller applies one by one. A document an insert found there
    with only its first event here is not updated (nothing could move it): its version read says if it is behind."""
    to_insert = [change.document(doc_id, version) for doc_id, (version, change) in changes.items() if doc_id in new]
    if prepare_new and to_insert:
        prepare_new(to_insert)  # fields only an insert sets
    inserted = documents.insert_new(to_insert)
    moved = documents.move_forward([(doc_id, version, change) for doc_id, (version, change) in changes.items()
                                    if doc_id not in new or (doc_id in inserted.existing and version > 1)])
    # found there at version 1 with nothing more here: an update could not move it, its version says if it is behind
    unsure = moved.unsure | {doc_id for doc_id in inserted.existing if changes[doc_id][0] == 1}
    versions = documents.versions(sorted(unsure)) if unsure else {}
    behind = {doc_id for doc_id in unsure if versions.get(doc_id, 0) < changes[doc_id][0]}
    return inserted.refused | moved.refused | behind
