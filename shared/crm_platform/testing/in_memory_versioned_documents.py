"""Read-model documents in memory, held to the same contract as MongoVersionedDocuments.

It answers as the strictest server does: an update statement stops at the
first document it refuses (FerretDB 1.24 does, unordered or not), and one with
any document not moved forward leaves all of them unsure. `refuse` names
documents whose writes it refuses, as a server refuses bad data; `statements`
counts what was sent.
"""
from __future__ import annotations

import copy
from collections import Counter

from crm_platform.projections import DocumentChange
from crm_platform.versioned_documents import VersionedDocuments, WriteOutcome


class InMemoryVersionedDocuments(VersionedDocuments):
    def __init__(self, refuse: set[str] = frozenset()) -> None:
        self.documents: dict[str, dict] = {}
        self.refuse = set(refuse)
        self.statements: Counter = Counter()

    def insert_new(self, documents: list[dict]) -> WriteOutcome:
        if not documents:
            return WriteOutcome()
        self.statements["insert"] += 1
        outcome = WriteOutcome()
        for document in documents:
            if document["_id"] in self.refuse:
                outcome.refused.add(document["_id"])
            elif document["_id"] in self.documents:
                outcome.existing.add(document["_id"])
            else:
                self.documents[document["_id"]] = copy.deepcopy(document)
        return outcome

    def move_forward(self, changes: list[tuple[str, int, DocumentChange]]) -> WriteOutcome:
        if not changes:
            return WriteOutcome()
        self.statements["update"] += 1
        matched = 0
        for doc_id, version, change in changes:
            if doc_id in self.refuse:
                ids = {i for i, _, _ in changes}
                return WriteOutcome(refused={doc_id}, unsure=ids - {doc_id})  # the rest is not applied
            current = self.documents.get(doc_id)
            if current is not None and current["version"] < version:
                self.documents[doc_id] = _applied(current, change, version)
                matched += 1
        return WriteOutcome() if matched == len(changes) else WriteOutcome(unsure={i for i, _, _ in changes})

    def versions(self, doc_ids: list[str]) -> dict[str, int]:
        if doc_ids:
            self.statements["read"] += 1
        return {doc_id: self.documents[doc_id]["version"] for doc_id in doc_ids if doc_id in self.documents}


def _applied(document: dict, change: DocumentChange, version: int) -> dict:
    moved = {name: value for name, value in document.items() if name not in change.unset}
    moved.update(copy.deepcopy(change.set), version=version)
    for name, value in change.forward.items():
        moved[name] = max(moved[name], value) if moved.get(name) is not None else value
    return moved
