"""Billing's event store, which notes whom each document is for before it stores the document's commit.

A person's documents written a moment ago are not in the read models yet (the worker projects each commit a little
later), and a privacy request must not miss them. Finding them by comparing the read models with every commit of
the account grew each request with the account (issue 13: 2.6 s of server time per erasure on an account of 20
people). So, before a commit of an invoice, quote or recurring invoice is stored, the contact its events name
(`contact_id`, in clear) is noted in `document_parties`, and for a credit note its invoice: an entry per
(document, party), inserted once and never changed. A person's entries are then an indexed equality per contact,
and what a request reads grows with the person's documents, not the account's.

Noted BEFORE the commit: a stored commit always has its entry; a commit refused (a conflict, an outage) leaves an
entry for a document that is not that party's (or has no events), which readers check against the events anyway.
A draft moved to another contact gets an entry for that contact: the entries of a document are every party it was
ever for, so one that names only this person's contacts is still theirs.
"""
from __future__ import annotations

from typing import Iterator

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from crm_platform.envelope import EventEnvelope
from crm_platform.event_store import EventStore, MongoEventStore, StreamHead
from crm_platform.mongo import find_each, insert_all_new, translated

# the documents whose party is a contact (their events' `contact_id`), and the credit notes, by their invoice
BY_CONTACT = frozenset({"Invoice", "Quote", "RecurringInvoice"})
BY_INVOICE = frozenset({"CreditNote"})


class PartyNotingEventStore(EventStore):
    """A MongoEventStore that notes each document's parties before storing its commits (see the module)."""

    def __init__(self, store: MongoEventStore, parties: Collection) -> None:
        self._store = store
        self._parties = parties

    def ensure_indexes(self) -> None:
        """The store's indexes, and the parties' by (account, party) and by document."""
        self._store.ensure_indexes()
        self._parties.create_index([("account_id", ASCENDING), ("party", ASCENDING)], name="account_party")
        self._parties.create_index([("document_id", ASCENDING)], name="document")

    def append(self, events: list[EventEnvelope]) -> None:
        self._note([events])
        self._store.append(events)

    def append_many(self, commits: list[list[EventEnvelope]]) -> list[int]:
        self._note(commits)
        return self._store.append_many(commits)

    def _note(self, commits: list[list[EventEnvelope]]) -> None:
        """One insert for the commits' new (document, party) entries; those noted before are refused, unchanged."""
        entries = {}
        for events in commits:
            for envelope in events:
                party = _party(envelope)
                if party is not None:
                    key = f"{envelope.aggregate_id}:{party}"
                    entries[key] = {"_id": key, "account_id": envelope.account_id, "party": party,
                                    "document_id": envelope.aggregate_id, "aggregate_type": envelope.aggregate_type}
        try:
            insert_all_new(self._parties, list(entries.values()))
        except PyMongoError as exc:
            raise translated(exc, "event store") from None

    def documents_for(self, account_id: str, parties: list[str]) -> dict[str, set[str]]:
        """Aggregate type -> the account's documents ever noted for one of these parties (an indexed equality
        each)."""
        found: dict[str, set[str]] = {}
        try:
            for party in dict.fromkeys(parties):
                for entry in self._parties.find({"account_id": account_id, "party": party},
                                                {"document_id": 1, "aggregate_type": 1}):
                    found.setdefault(entry["aggregate_type"], set()).add(entry["document_id"])
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        return found

    def parties_of(self, document_ids: list[str]) -> dict[str, set[str]]:
        """Document -> every party noted for it (an indexed equality per document: crm_platform.mongo.find_each)."""
        found: dict[str, set[str]] = {}
        try:
            for entry in find_each(self._parties, "document_id", document_ids, {"document_id": 1, "party": 1}):
                found.setdefault(entry["document_id"], set()).add(entry["party"])
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        return found

    def load(self, aggregate_id: str) -> list[EventEnvelope]:
        return self._store.load(aggregate_id)

    def load_each(self, aggregate_ids: list[str]) -> dict[str, list[EventEnvelope]]:
        return self._store.load_each(aggregate_ids)

    def read_all(self, batch_size: int = 500) -> Iterator[EventEnvelope]:
        return self._store.read_all(batch_size)

    def head(self, aggregate_id: str) -> StreamHead | None:
        return self._store.head(aggregate_id)

    def written_after(self, aggregate_id: str, version: int) -> bool:
        return self._store.written_after(aggregate_id, version)

    def heads(self, aggregate_ids: list[str]) -> dict[str, StreamHead]:
        return self._store.heads(aggregate_ids)

    def heads_of_type(self, account_id: str, aggregate_type: str) -> dict[str, int]:
        return self._store.heads_of_type(account_id, aggregate_type)

    def __getattr__(self, name):  # the rest of MongoEventStore (commits, outbox, unsendable), as it is
        return getattr(self._store, name)


def _party(envelope: EventEnvelope) -> str | None:
    if envelope.aggregate_type in BY_CONTACT:
        return envelope.payload.get("contact_id") or None
    if envelope.aggregate_type in BY_INVOICE:
        return envelope.payload.get("invoice_id") or None
    return None
