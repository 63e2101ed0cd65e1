"""Billing's entries of a contact's timeline (issue 14) through the API, the real event store, relay, Kafka and the
worker's timeline consumer: newest first, at each event's own time, the caller's account only; forgotten when the
person is erased, by privacy's request or by contacts, and not brought back by a replay."""
import pytest

from crm_platform.contracts.privacy import ErasureRequested
from crm_platform.mongo import MongoConnection
from crm_platform.testing.consumers import relay_and_consume
from crm_platform.testing.statements import Statements
from crm_platform.timeline import utc_millis

from billing.bootstrap import Container
from billing.entrypoints.cli import rebuild_read_models

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers
from .test_privacy import request_envelope

LINE = {"description": "Audit de Louise", "quantity": "1", "unit": "jour", "unit_price": "800",
        "taxes": [{"category": "S", "rate": "20"}]}


@pytest.fixture
def louise(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:louise", LOUISE))
    return "contact:louise"


def posted(client, path, body=None):
    answer = client.post(path, headers=headers(), json=body or {})
    assert answer.status_code in (200, 201), answer.get_json()
    return answer.get_json()


def relay_and_follow(container, settings) -> int:
    """What the worker does: relay the stored events to Kafka; its timeline consumer takes them from there."""
    return relay_and_consume(container, settings["KAFKA_BOOTSTRAP_SERVERS"], "billing.timeline", container.timeline_consumer,
                             container.apply_to_timeline)


def erased_event(container, contact_id):
    """ContactErased, as contacts publishes it after the contact's creation (version 2)."""
    events = ContactEvents(container.cipher)
    events.versions[contact_id] = 1
    return events.erased(contact_id)


def timeline(client, contact_id, account="acct-1", **query):
    answer = client.get(f"/v1/contact-timeline/{contact_id}", headers=headers(account), query_string=query)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_a_contacts_invoices_and_quotes_on_their_timeline_until_they_are_erased(client, container, settings, louise):
    invoice = posted(client, "/v1/invoices", {"contact_id": louise, "lines": [LINE]})
    issued = posted(client, f"/v1/invoices/{invoice['id']}/issue")
    posted(client, f"/v1/invoices/{invoice['id']}/payments",
           {"amount": "100.00", "paid_on": issued["issued_on"], "method": "card", "reference": "CB Louise"})
    note = posted(client, "/v1/credit-notes", {"invoice_id": invoice["id"], "reason": "remise de Louise",
                                               "lines": [{**LINE, "unit_price": "100"}]})
    quote = posted(client, "/v1/quotes", {"contact_id": louise, "lines": [LINE]})
    sent = posted(client, f"/v1/quotes/{quote['id']}/send")
    posted(client, f"/v1/quotes/{quote['id']}/accept")
    relay_and_follow(container, settings)

    page = timeline(client, louise)
    assert [(item["kind"], item["subject"]) for item in page["items"]] == [
        ("quote.accepted", {"type": "quote", "id": quote["id"]}),
        ("quote.sent", {"type": "quote", "id": quote["id"]}),
        ("credit_note.issued", {"type": "credit_note", "id": note["id"]}),
        ("invoice.payment_recorded", {"type": "invoice", "id": invoice["id"]}),
        ("invoice.issued", {"type": "invoice", "id": invoice["id"]})]
    stored = {envelope.event_id: envelope for envelope in container.event_store.read_all()}
    for item in page["items"]:  # each entry is its event, at the event's own time
        assert item["at"] == utc_millis(stored[item["id"]].occurred_at).isoformat() + "+00:00"
    assert page["items"][-1]["summary"] == {
        "number": issued["number"], "total": "960.00", "currency": "EUR", "issued_on": issued["issued_on"],
        "due_on": issued["due_on"], "status": "issued"}
    assert page["items"][1]["summary"]["number"] == sent["number"]
    assert "Louise" not in str(page) and "@" not in str(page)
    first = timeline(client, louise, limit=2)
    rest = timeline(client, louise, cursor=first["next_cursor"])
    assert [item["id"] for item in first["items"] + rest["items"]] == [item["id"] for item in page["items"]]
    assert timeline(client, louise, account="acct-2") == {"items": [], "next_cursor": None}

    container.privacy_handler().handle(request_envelope(ErasureRequested(
        "request:erase", "acct-1", [louise], ["billing"], "2026-12-02T10:00:00Z")))
    assert timeline(client, louise)["items"] == []  # the retained invoice's entries too
    rebuild_read_models(container)  # a replay of every event: nothing comes back for an erased person
    assert timeline(client, louise)["items"] == []


def test_contacts_erasing_the_person_forgets_their_entries_here(client, container, settings, louise):
    invoice = posted(client, "/v1/invoices", {"contact_id": louise, "lines": [LINE]})
    posted(client, f"/v1/invoices/{invoice['id']}/issue")
    relay_and_follow(container, settings)
    assert [item["kind"] for item in timeline(client, louise)["items"]] == ["invoice.issued"]

    container.apply_to_customers(erased_event(container, louise))
    assert timeline(client, louise)["items"] == []
    for envelope in container.event_store.read_all():  # delivered again: still nothing
        container.apply_to_timeline(envelope)
    assert timeline(client, louise)["items"] == []


def test_the_timeline_consumer_asks_whether_a_contact_is_erased_by_equality_never_by_in(client, container, louise):
    # on every event that makes an entry: an `$in` would be a scan of every customer on FerretDB (issues 13 and 16)
    invoice = posted(client, "/v1/invoices", {"contact_id": louise, "lines": [LINE]})
    posted(client, f"/v1/invoices/{invoice['id']}/issue")
    customers = Statements("customers")
    counted = Container(container.settings)
    counted.mongo = MongoConnection(container.settings["MONGO_URI"], "test", event_listeners=[customers])
    for envelope in container.event_store.read_all():
        counted.apply_to_timeline(envelope)
    assert [item["kind"] for item in timeline(client, louise)["items"]] == ["invoice.issued"]
    assert customers.names and customers.using("$in") == []
    assert counted.customers.erased("acct-1", [louise, "contact:nobody"]) == set()
    assert counted.customers.erased("acct-2", [louise]) == set()
    container.apply_to_customers(erased_event(container, louise))
    assert counted.customers.erased("acct-1", [louise, "contact:nobody"]) == {louise}
    assert counted.customers.erased("acct-2", [louise]) == set()  # another account's contact of that id: not it


def test_a_merged_contact_s_entries_are_the_survivor_s_even_those_of_events_that_come_after_the_merge(
        client, container, settings, louise):
    events = ContactEvents(container.cipher)
    container.apply_to_customers(events.created("contact:paul", {**LOUISE, "first_name": "Paul"}))
    invoice = posted(client, "/v1/invoices", {"contact_id": "contact:paul", "lines": [LINE]})
    posted(client, f"/v1/invoices/{invoice['id']}/issue")
    relay_and_follow(container, settings)
    [issued] = timeline(client, "contact:paul")["items"]

    for _ in range(2):  # as the worker's customers consumer does, delivered twice
        container.apply_to_customers(events.deleted("contact:paul", merged_into=louise))
    assert timeline(client, "contact:paul")["items"] == []
    assert [item["id"] for item in timeline(client, louise)["items"]] == [issued["id"]]
    for envelope in container.event_store.read_all():  # delivered late: the invoice's events name contact:paul
        container.apply_to_timeline(envelope)
    assert timeline(client, "contact:paul")["items"] == []
    assert [item["id"] for item in timeline(client, louise)["items"]] == [issued["id"]]


def test_a_merge_into_an_erased_contact_brings_none_of_its_entries_back(client, container, settings, louise):
    events = ContactEvents(container.cipher)
    container.apply_to_customers(events.created("contact:paul", {**LOUISE, "first_name": "Paul"}))
    invoice = posted(client, "/v1/invoices", {"contact_id": "contact:paul", "lines": [LINE]})
    posted(client, f"/v1/invoices/{invoice['id']}/issue")
    relay_and_follow(container, settings)
    container.apply_to_customers(erased_event(container, louise))

    container.apply_to_customers(events.deleted("contact:paul", merged_into=louise))  # merged before, told after
    assert timeline(client, louise)["items"] == [] and timeline(client, "contact:paul")["items"] == []
    for envelope in container.event_store.read_all():
        container.apply_to_timeline(envelope)
    assert timeline(client, louise)["items"] == [] and timeline(client, "contact:paul")["items"] == []
