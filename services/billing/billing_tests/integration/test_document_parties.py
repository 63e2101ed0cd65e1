"""Billing's event store noting whom each document is for (adapters/document_parties.py), on the real database:
the kernel's event-store contract, what a commit costs, and the backfill of the documents stored before."""
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.event_store import MongoEventStore
from crm_platform.mongo import MongoConnection
from crm_platform.testing.event_store_contract import EventStoreContract
from crm_platform.testing.statements import Statements

from billing.adapters.document_parties import ROLLOUT_SETTLE_S, PartyNotingEventStore
from billing.bootstrap import Container
from billing.domain import commands
from billing.domain import quote_commands as quotes
from billing.domain import recurring_commands as recurring

from ..contact_events import LOUISE, ContactEvents

LINE = {"description": "Audit", "quantity": "1", "unit": "jour", "unit_price": "800",
        "taxes": [{"category": "S", "rate": "20"}]}


class TestPartyNotingEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, mongo_db):
        store = PartyNotingEventStore(MongoEventStore(mongo_db), mongo_db["document_parties"], mongo_db["backfills"])
        store.ensure_indexes()
        return store


class BeforeTheEntries(Container):
    """Billing as it was before its event store noted whom each document is for: the kernel's store alone."""

    @property
    def event_store(self) -> MongoEventStore:
        return MongoEventStore(self.db)


@pytest.fixture
def customers(container):
    events = ContactEvents(container.cipher)
    container.apply_to_customers(events.created("contact:1", LOUISE))
    container.apply_to_customers(events.created("contact:2", {**LOUISE, "first_name": "Paul"}))


def entries(container):
    return sorted((entry["document_id"], entry["party"]) for entry in container.db["document_parties"].find())


def test_a_commit_inserts_an_entry_only_when_its_events_may_bring_a_new_party(container, customers):
    """A payment, a send, an issue's number name the contact the invoice is for already: their commits cost no
    statement on document_parties; a draft moved to another contact costs one."""
    bus = container.bus
    invoice = bus.handle(commands.IssueInvoice("acct-1", bus.handle(commands.CreateInvoiceDraft(
        "acct-1", "contact:1", (LINE,))).id))
    draft = bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:1", (LINE,)))
    parties = Statements("document_parties")
    counted = Container(container.settings)
    counted.mongo = MongoConnection(container.settings["MONGO_URI"], "test", event_listeners=[parties])
    counted.bus.handle(commands.RecordPayment("acct-1", invoice.id, "100", invoice.issued_on, "card"))
    assert parties.names == []
    counted.bus.handle(commands.UpdateInvoiceDraft("acct-1", draft.id, None, {"contact_id": "contact:2"}))
    assert parties.names == ["insert"]
    assert (draft.id, "contact:2") in entries(container)


def test_documents_stored_before_parties_were_noted_are_found_before_and_after_the_backfill(container, customers):
    """Issue 13's rollout: the documents billing stored before its event store noted parties have no entry. Until
    the backfill has completed a listing compares the read models with the account's commits (here the read models
    have projected none of them: a worker behind, or read models being rebuilt); the backfill notes every one from
    the event store and says it has completed; a second run changes nothing."""
    container.db["backfills"].delete_many({})  # a store of before the change: the fixture's marker is not there yet
    bus = BeforeTheEntries(container.settings).bus
    draft = bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:1", (LINE,)))
    moved = bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:2", (LINE,)))
    bus.handle(commands.UpdateInvoiceDraft("acct-1", moved.id, None, {"contact_id": "contact:1"}))
    invoice = bus.handle(commands.IssueInvoice("acct-1", bus.handle(commands.CreateInvoiceDraft(
        "acct-1", "contact:1", (LINE,))).id))
    note = bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "remise", ({**LINE, "unit_price": "100"},)))
    quote = bus.handle(quotes.CreateQuoteDraft("acct-1", "contact:1", (LINE,)))
    plan = bus.handle(recurring.CreateRecurringInvoice("acct-1", "contact:1", {
        "anchor": "2099-01-01", "every": 1, "unit": "month"}, "draft", (LINE,)))
    pauls = bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:2", (LINE,)))
    assert entries(container) == [] and container.invoices.collection.count_documents({}) == 0
    index = container.privacy_participant()._index

    def listed():
        found = index.documents_of("acct-1", ["contact:1"])
        return sorted(found.invoices), found.credit_notes, sorted(found.quotes), found.recurring_invoices

    louise_s = (sorted([draft.id, moved.id, invoice.id]), {invoice.id: [note.id]}, [quote.id], [plan.id])
    assert listed() == louise_s  # (a) before the backfill: the comparison with the store
    assert pauls.id in index.documents_of("acct-1", ["contact:2"]).invoices

    clock = [datetime(2026, 12, 4, 3, 0, tzinfo=timezone.utc)]
    store = container.event_store
    assert store.note_stored_documents(now=lambda: clock[0]) is None  # (b) a first pass: every party of every
    assert entries(container) == sorted([(draft.id, "contact:1"), (moved.id, "contact:2"), (moved.id, "contact:1"),
                                         (invoice.id, "contact:1"), (note.id, "contact:1"), (quote.id, "contact:1"),
                                         (plan.id, "contact:1"), (pauls.id, "contact:2")])
    assert not store.every_document_noted() and listed() == louise_s  # ... but no marker yet: a rolling update
    late = bus.handle(quotes.CreateQuoteDraft("acct-1", "contact:1", (LINE,)))  # by a process of the old release
    clock[0] += timedelta(seconds=ROLLOUT_SETTLE_S - 1)
    assert store.note_stored_documents(now=lambda: clock[0]) is None and not store.every_document_noted()
    clock[0] += timedelta(seconds=2)
    assert store.note_stored_documents(now=lambda: clock[0]) > 0  # the second pass, once settled: the marker
    noted = entries(container)
    assert (late.id, "contact:1") in noted and store.every_document_noted()
    louise_s = (louise_s[0], louise_s[1], sorted([quote.id, late.id]), louise_s[3])
    commits = Statements("event_commits")
    counted = Container(container.settings)
    counted.mongo = MongoConnection(container.settings["MONGO_URI"], "test", event_listeners=[commits])
    found = counted.privacy_participant()._index.documents_of("acct-1", ["contact:1"])
    assert (sorted(found.invoices), found.credit_notes, sorted(found.quotes), found.recurring_invoices) == louise_s
    assert not [command for command in commits.commands if "aggregate_type" in command.get("filter", {})], \
        "the entries are read now, not every commit of the account (heads_of_type)"

    assert container.note_document_parties() == 0  # (c) done: not read again
    assert container.event_store.note_stored_documents(again=True) > 0  # forced (the CLI's): nothing new
    assert entries(container) == noted and container.db["backfills"].count_documents({}) == 1
    assert listed() == louise_s


class Refused:
    """The lease of another worker's backfill."""

    def acquire_or_renew(self) -> bool:
        return False


def test_a_worker_without_the_lease_leaves_the_backfill_to_the_one_holding_it(container, customers):
    container.db["backfills"].delete_many({})
    BeforeTheEntries(container.settings).bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:1", (LINE,)))
    assert container.note_document_parties(Refused()) is None
    assert entries(container) == [] and not container.event_store.every_document_noted()


def test_a_store_without_documents_at_the_first_pass_is_noted_at_once(container):
    """A new deployment: no earlier release stored a document, so there is nothing to wait a second pass for."""
    container.db["backfills"].delete_many({})
    assert container.note_document_parties() is not None
    assert container.event_store.every_document_noted()
