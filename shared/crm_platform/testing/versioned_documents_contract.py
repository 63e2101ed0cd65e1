"""The behaviour every VersionedDocuments must have, run against the fake and the real adapter.

Subclass `VersionedDocumentsContract` and provide a `documents` fixture (an empty read model) and a
`stored` fixture (a function: document id -> the document as stored, or None).
"""
from __future__ import annotations

from datetime import datetime, timezone

from crm_platform.projections import DocumentChange

EARLY = datetime(2026, 1, 1, tzinfo=timezone.utc)
LATE = datetime(2026, 6, 1, tzinfo=timezone.utc)


def doc(doc_id: str, version: int, **fields) -> dict:
    return {"_id": doc_id, **fields, "version": version}


class VersionedDocumentsContract:
    def test_new_documents_are_inserted_and_existing_ones_reported_and_left_alone(self, documents):
        assert documents.insert_new([doc("a", 1, n=1)]).existing == set()
        outcome = documents.insert_new([doc("a", 1, n=99), doc("b", 1, n=2)])
        assert (outcome.existing, outcome.refused) == ({"a"}, set())
        assert documents.versions(["a", "b", "missing"]) == {"a": 1, "b": 1}

    def test_a_change_moves_only_documents_at_an_older_version(self, documents, stored):
        documents.insert_new([doc("a", 1, n=1, gone="x", seen=LATE), doc("b", 3, n=3)])
        change = DocumentChange({"n": 2}, unset=("gone",), forward={"seen": EARLY})
        outcome = documents.move_forward([("a", 2, change), ("b", 2, change)])
        assert outcome.refused == set() and "b" in outcome.unsure  # b is newer: not moved, and said so
        assert stored("a") == doc("a", 2, n=2, seen=LATE)  # set, unset, and moved forward only (LATE > EARLY)
        assert stored("b") == doc("b", 3, n=3)

    def test_when_every_document_moved_none_is_unsure(self, documents, stored):
        documents.insert_new([doc("a", 1, n=1, seen=EARLY), doc("b", 1, n=1)])
        change = DocumentChange({"n": 2}, forward={"seen": LATE})
        assert documents.move_forward([("a", 2, change), ("b", 5, change)]).unsure == set()
        assert documents.versions(["a", "b"]) == {"a": 2, "b": 5}
        assert stored("a") == doc("a", 2, n=2, seen=LATE) and stored("b") == doc("b", 5, n=2, seen=LATE)

    def test_a_missing_document_is_not_created_by_a_change(self, documents):
        outcome = documents.move_forward([("missing", 2, DocumentChange({"n": 2}))])
        assert outcome.unsure == {"missing"} and documents.versions(["missing"]) == {}

    def test_many_documents_are_read_by_id(self, documents):
        documents.insert_new([doc(f"d{i}", i + 1) for i in range(50)])
        assert documents.versions([f"d{i}" for i in range(0, 60, 2)]) == {f"d{i}": i + 1 for i in range(0, 50, 2)}
