"""The invoices read model on the real database: any order, any number of deliveries, the same document;
overdue judged on the account's day when the list is asked for."""
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.personal_data import is_sealed

from billing.domain import commands
from billing.domain import quote_commands as QuoteCommands
from billing.entrypoints.cli import rebuild_read_models

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers

LINE = {"description": "Audit", "quantity": "1", "unit": "jour", "unit_price": "800", "taxes": [{"category": "S", "rate": "20"}]}


@pytest.fixture
def customer(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:1", LOUISE))
    return "contact:1"


def issued_and_partly_paid(container, customer):
    bus = container.bus
    invoice = bus.handle(commands.CreateInvoiceDraft("acct-1", customer, (LINE,)))
    invoice = bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    return bus.handle(commands.RecordPayment("acct-1", invoice.id, "100", invoice.issued_on, "card"))


def test_events_in_any_order_and_again_leave_the_latest_state(container, customer):
    invoice = issued_and_partly_paid(container, customer)
    envelopes = list(container.event_store.read_all())
    for envelope in reversed(envelopes):  # the newest first: the rest are older than what is there
        container.apply_to_documents(envelope)
    doc = container.invoices.collection.find_one({"_id": invoice.id})
    assert (doc["version"], doc["stage"], doc["amount_due"], doc["has_payments"]) == (invoice.revision, "issued", "860.00", True)
    assert not any(container.invoices.apply(envelope) for envelope in envelopes)  # delivered again: nothing changes


def test_overdue_is_judged_on_the_day_the_list_is_asked(client, container, customer):
    invoice = issued_and_partly_paid(container, customer)
    for envelope in container.event_store.read_all():
        container.apply_to_documents(envelope)
    listed = client.get("/v1/invoices?status=partially_paid", headers=headers()).get_json()["items"]
    assert [i["id"] for i in listed] == [invoice.id]
    assert client.get("/v1/invoices?overdue=true", headers=headers()).get_json()["items"] == []
    later = datetime.now(timezone.utc) + timedelta(days=90)
    container.clock = lambda: later  # three months on, nothing more paid
    overdue = client.get("/v1/invoices?overdue=true", headers=headers()).get_json()["items"]
    assert [(i["id"], i["status"]) for i in overdue] == [(invoice.id, "overdue")]
    assert client.get("/v1/invoices?status=partially_paid", headers=headers()).get_json()["items"] == []
    assert client.get(f"/v1/invoices/{invoice.id}", headers=headers()).get_json()["status"] == "overdue"
    assert client.get("/v1/invoices?overdue=false", headers=headers()).get_json()["items"] == []


def test_once_the_documents_key_is_shredded_the_read_model_keeps_no_buyer_but_the_amounts(container, customer):
    invoice = issued_and_partly_paid(container, customer)
    for envelope in container.event_store.read_all():
        container.apply_to_documents(envelope)
    listed = container.invoices.collection.find_one({"_id": invoice.id})
    assert is_sealed(listed["buyer_name"]) and listed["contacts_ever"] == ["contact:1"]
    container.cipher.shred(listed["subject_key"])  # what erasing contact:1 finds: the keys of the documents listing it
    for envelope in container.event_store.read_all():
        container.invoices.apply(envelope, rebuilding=True)
    doc = container.invoices.collection.find_one({"_id": invoice.id})
    assert doc["erased"] is True and "buyer_name" not in doc and doc["amount_due"] == "860.00"


def test_a_contact_s_documents_include_those_of_the_contacts_merged_into_it(client, container, customer):
    events = ContactEvents(container.cipher)
    for envelope in (events.created("contact:a", {"company": "A"}), events.created("contact:b", {"company": "B"})):
        container.apply_to_customers(envelope)
    of_a = container.bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:a", (LINE,)))
    of_b = container.bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:b", (LINE,)))
    for envelope in container.event_store.read_all():
        container.apply_to_documents(envelope)
    for envelope in (events.merged("contact:b", {"company": "B"}, ["contact:a"]),
                     events.deleted("contact:a", merged_into="contact:b")):
        container.apply_to_customers(envelope)
    listed = client.get("/v1/invoices?contact_id=contact:b", headers=headers()).get_json()["items"]
    assert {i["id"] for i in listed} == {of_a.id, of_b.id}
    assert [i["id"] for i in client.get("/v1/invoices?contact_id=contact:a", headers=headers()).get_json()["items"]] == [of_a.id]


def test_the_read_models_are_rebuilt_from_the_event_store(container, customer):
    invoice = issued_and_partly_paid(container, customer)
    assert rebuild_read_models(container) == len(list(container.event_store.read_all()))
    assert container.invoices.collection.find_one({"_id": invoice.id})["version"] == invoice.revision
    container.invoices.collection.delete_many({})
    rebuild_read_models(container)
    assert container.invoices.collection.find_one({"_id": invoice.id})["amount_due"] == "860.00"


def test_once_the_documents_key_is_shredded_no_list_shows_the_buyer_though_no_event_came(client, container, customer):
    invoice = issued_and_partly_paid(container, customer)
    note = container.bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Geste",
                                                         ({**LINE, "unit_price": "100"},)))
    quote = container.bus.handle(QuoteCommands.CreateQuoteDraft("acct-1", customer, (LINE,)))
    quote = container.bus.handle(QuoteCommands.SendQuote("acct-1", quote.id))
    for envelope in container.event_store.read_all():
        container.apply_to_documents(envelope)
    lists = ("/v1/invoices", "/v1/quotes")  # (the credit notes' list shows no buyer, its read model keeps one)
    assert [client.get(path, headers=headers()).get_json()["items"][0]["buyer_name"] for path in lists] == [
        "Louise Desnotes"] * 2
    stored = [container.invoices.collection.find_one({"_id": invoice.id}),
              container.credit_notes.collection.find_one({"_id": note.id}),
              container.quotes.collection.find_one({"_id": quote.id})]
    assert not any("Louise" in str(doc) for doc in stored)  # nothing in clear in the read models
    for doc in (stored[0], stored[2]):  # what erasing contact:1 does: shred the keys of the documents listing it
        container.cipher.shred(doc["subject_key"])
    assert [client.get(path, headers=headers()).get_json()["items"][0]["buyer_name"] for path in lists] == [None] * 2
    assert container.credit_notes.opened([stored[1]])[0]["buyer_name"] is None  # sealed under its invoice's key
