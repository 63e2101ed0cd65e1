"""Billing's event store, which notes whom each document is for before it stores the document's commit.

A person's documents written a moment ago are not in the read models yet (the worker projects each commit a little
later), and a privacy request must not miss them. Finding them by comparing the read models with every commit of
the account grew each request with the account (issue 13: 2.6 s of server time per erasure on an account of 20
people). So, before a commit of an invoice, quote, recurring invoice or credit note is stored, the contact its
events name (`contact_id`, in clear; a credit note's is its invoice's, frozen at issue) is noted in
`document_parties`: an entry per (document, party), inserted once and never changed. A person's entries are then an
indexed equality per contact, and what a request reads grows with the person's documents, not the account's.

Only the events that may bring a document a party it did not have are looked at (PARTY_EVENTS: its creation, a
draft edited to another contact, a draft frozen for the survivor of a merge); every other event of a document
repeats the contact it is for already (billing_tests/unit/test_document_parties.py holds every event class naming a
contact to one list or the other), so their commits cost no statement here.

Noted BEFORE the commit: a stored commit always has its entry; a commit refused (a conflict, an outage) leaves an
entry for a document that is not that party's (or has no events), which readers check against the events anyway.
A draft moved to another contact gets an entry for that contact: the entries of a document are every party it was
ever for.

Documents stored before this store noted them have no entry: `note_stored_documents` (the backfill, run by the
worker until it has completed once, and by `billing note-document-parties`) notes them from the event store, then
records so in `backfills`; until then a listing must not rely on the entries (`every_document_noted`). During a
rolling update, processes of the earlier release still store documents without entries after a first pass has
read past them; so a store that held documents gets a second pass starting ROLLOUT_SETTLE_S after the first began,
and only that one records the completion (a store with no document at the first pass has no earlier release's
documents to wait for).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, Protocol

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from crm_platform.envelope import EventEnvelope
from crm_platform.event_store import EventStore, MongoEventStore, StreamHead
from crm_platform.liveness import still_working
from crm_platform.mongo import insert_all_new, translated

from billing.domain.credit_notes import CreditNoteIssueStarted
from billing.domain.invoice_events import InvoiceDrafted, InvoiceDraftUpdated, InvoiceIssueStarted
from billing.domain.quote_events import QuoteDrafted, QuoteDraftUpdated, QuoteSendStarted
from billing.domain.recurring_invoice_events import RecurringInvoiceEdited, RecurringInvoiceScheduled

# the events that may name a contact the document was not for before (see the module)
PARTY_EVENTS = frozenset(event.event_type() for event in (
    InvoiceDrafted, InvoiceDraftUpdated, InvoiceIssueStarted, QuoteDrafted, QuoteDraftUpdated, QuoteSendStarted,
    RecurringInvoiceScheduled, RecurringInvoiceEdited, CreditNoteIssueStarted))
BACKFILL = "document_parties"  # the `_id` of the backfill's marker in `backfills`
BACKFILL_BATCH = 500  # events read, and entries inserted at most, between two words of progress
ROLLOUT_SETTLE_S = 1800  # longer than a rolling update of billing takes: the second pass then sees all it wrote


class BackfillLease(Protocol):
    def acquire_or_renew(self) -> bool: ...


class PartyNotingEventStore(EventStore):
    """A MongoEventStore that notes each document's parties before storing its commits (see the module)."""

    def __init__(self, store: MongoEventStore, parties: Collection, backfills: Collection) -> None:
        self._store = store
        self._parties = parties
        self._backfills = backfills

    def ensure_indexes(self) -> None:
        """The store's indexes, and the parties' by (account, party)."""
        self._store.ensure_indexes()
        self._parties.create_index([("account_id", ASCENDING), ("party", ASCENDING)], name="account_party")

    def append(self, events: list[EventEnvelope]) -> None:
        self.note(events)
        self._store.append(events)

    def append_many(self, commits: list[list[EventEnvelope]]) -> list[int]:
        self.note(envelope for events in commits for envelope in events)
        return self._store.append_many(commits)

    def note(self, envelopes: Iterable[EventEnvelope]) -> None:
        """One insert for these events' new (document, party) entries, if any; those noted before are refused,
        unchanged."""
        try:
            insert_all_new(self._parties, party_entries(envelopes))
        except PyMongoError as exc:
            raise translated(exc, "event store") from None

    def noted_for(self, account_id: str, parties: list[str]) -> list[dict]:
        """The account's entries of these parties (an indexed equality each): `document_id`, `aggregate_type`, and
        a credit note's `invoice_id`."""
        try:
            return [entry for party in dict.fromkeys(parties)
                    for entry in self._parties.find({"account_id": account_id, "party": party},
                                                    {"document_id": 1, "aggregate_type": 1, "invoice_id": 1})]
        except PyMongoError as exc:
            raise translated(exc, "event store") from None

    def every_document_noted(self) -> bool:
        """Whether the backfill has completed: from then on every stored document has its entries."""
        return "completed_at" in self._backfill_state()

    def _backfill_state(self) -> dict:
        try:
            return self._backfills.find_one({"_id": BACKFILL}) or {}
        except PyMongoError as exc:
            raise translated(exc, "event store") from None

    def note_stored_documents(self, lease: BackfillLease | None = None, again: bool = False,
                              now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> int | None:
        """The backfill: the parties of every document stored noted from its events (one pass over the event store,
        BACKFILL_BATCH events at a time, an insert per batch of entries, those noted already refused unchanged), then
        the marker that says so. Nothing if it has completed already (unless `again`), or without the `lease` (one
        worker backfills; one that loses it stops, and the next holder starts again: safe to repeat). The marker
        follows the first pass only if the store held no document; else a second pass, begun ROLLOUT_SETTLE_S after
        the first began, records it (see the module), and a call before then does nothing. `again` (the CLI's, once
        every process runs this release) passes and records at once. The events read; None if it did not record the
        completion."""
        state = self._backfill_state()
        if not again and "completed_at" in state:
            return 0
        first_began = state.get("first_pass_began_at")
        if first_began is not None and first_began.tzinfo is None:
            first_began = first_began.replace(tzinfo=timezone.utc)  # pymongo reads datetimes naive, in UTC
        began = now()
        if not again and first_began is not None and (began - first_began).total_seconds() < ROLLOUT_SETTLE_S:
            return None
        if lease is not None and not lease.acquire_or_renew():
            return None
        read, documents, pending = 0, 0, []
        for envelope in self._store.read_all(BACKFILL_BATCH):
            read += 1
            if envelope.event_type in PARTY_EVENTS:
                pending.append(envelope)
                documents += 1
            if read % BACKFILL_BATCH == 0:
                if lease is not None and not lease.acquire_or_renew():
                    return None
                self.note(pending)
                pending = []
                still_working()
        if lease is not None and not lease.acquire_or_renew():
            return None
        self.note(pending)
        done = again or documents == 0 or first_began is not None
        recorded = {"completed_at": now(), "events_read": read} if done else {"first_pass_began_at": began}
        try:
            self._backfills.update_one({"_id": BACKFILL}, {"$set": recorded}, upsert=True)
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        return read if done else None

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


def party_entries(envelopes: Iterable[EventEnvelope]) -> list[dict]:
    """The (document, party) entries these events bring, once each: the contact of each of PARTY_EVENTS, with a
    credit note's invoice (a listing then needs no read of the credit note to know whose invoice it corrects)."""
    entries: dict[str, dict] = {}
    for envelope in envelopes:
        party = envelope.payload.get("contact_id") if envelope.event_type in PARTY_EVENTS else None
        if party:
            key = f"{envelope.aggregate_id}:{party}"
            entries[key] = {"_id": key, "account_id": envelope.account_id, "party": party,
                            "document_id": envelope.aggregate_id, "aggregate_type": envelope.aggregate_type}
            if envelope.payload.get("invoice_id") and envelope.aggregate_type == "CreditNote":
                entries[key]["invoice_id"] = envelope.payload["invoice_id"]
    return list(entries.values())
