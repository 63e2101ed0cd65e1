"""Invoices and credit notes through the API, the real event store, relay, Kafka and read models."""
import pytest

from crm_platform.envelope import envelope_from_json_bytes
from crm_platform.kafka_clients import ensure_topics
from crm_platform.testing.topics import read_topic

from billing.entrypoints.invoice_schemas import CreditNoteSchema, InvoiceSchema

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers

LINE = {"description": "Développement du site", "quantity": "3", "unit": "jour", "unit_price": "450.00",
        "taxes": [{"category": "S", "rate": "20"}]}
BOOKS = {"description": "Livres", "quantity": 2, "unit": "pièce", "unit_price": "24.99",
         "taxes": [{"category": "S", "rate": "5.5"}]}


@pytest.fixture
def louise(container):
    """A contact billing heard of from contacts.events."""
    events = ContactEvents(container.cipher)
    for envelope in (events.created("contact:louise", LOUISE), events.created("contact:gone", {"company": "Ex"}),
                     events.deleted("contact:gone")):
        container.apply_to_customers(envelope)
    return "contact:louise"


def project_everything(container, settings) -> int:
    """What the worker does: relay the stored events to Kafka, then give them to the read models."""
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [container.events_topic], 1)
    relayed = container.outbox_relay().publish_pending()
    for record in read_topic(settings["KAFKA_BOOTSTRAP_SERVERS"], container.events_topic, expected=relayed):
        container.apply_to_documents(envelope_from_json_bytes(record.value))
    return relayed


def draft(client, contact_id, **fields):
    answer = client.post("/v1/invoices", headers=headers(), json={"contact_id": contact_id, "lines": [LINE, BOOKS],
                                                                   **fields})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_a_draft_is_issued_paid_in_two_payments_and_listed_by_status(client, container, settings, louise):
    invoice = draft(client, louise, discount={"kind": "percent", "value": "10"})
    assert invoice["status"] == "draft" and invoice["number"] is None and invoice["totals"]["total"] == "1505.45"
    assert invoice["currency"] == "EUR" and "40 €" in invoice["legal_terms"]  # the account's defaults
    changed = client.patch(f"/v1/invoices/{invoice['id']}", headers=headers(), json={"revision": 1, "notes": "Merci"})
    assert changed.status_code == 200 and changed.get_json()["revision"] == 2
    issued = client.post(f"/v1/invoices/{invoice['id']}/issue", headers=headers(**{"If-Match": '"2"'}))
    assert issued.status_code == 200, issued.get_json()
    issued = issued.get_json()
    assert issued["status"] == "issued" and issued["number"].endswith("-0001") and issued["buyer"]["name"] == "Louise Desnotes"
    again = client.post(f"/v1/invoices/{invoice['id']}/issue", headers=headers()).get_json()
    assert again["number"] == issued["number"] and again["revision"] == issued["revision"]  # a retry, the same issue
    assert client.patch(f"/v1/invoices/{invoice['id']}", headers=headers(), json={"notes": "x"}).status_code == 409

    part = client.post(f"/v1/invoices/{invoice['id']}/payments", headers=headers(), json={
        "amount": "500.00", "paid_on": issued["issued_on"], "method": "bank_transfer", "reference": "VIR 1"})
    assert part.status_code == 201, part.get_json()
    assert part.get_json()["status"] == "partially_paid" and part.get_json()["amount_due"] == "1005.45"
    paid = client.post(f"/v1/invoices/{invoice['id']}/payments", headers=headers(), json={
        "amount": "1005.45", "paid_on": issued["issued_on"], "method": "card"}).get_json()
    assert paid["status"] == "paid" and paid["amount_due"] == "0.00"

    other = draft(client, louise)
    assert project_everything(container, settings) > 0
    page = client.get("/v1/invoices?status=paid", headers=headers()).get_json()
    assert [(i["id"], i["status"], i["buyer_name"]) for i in page["items"]] == [(invoice["id"], "paid", "Louise Desnotes")]
    assert [i["id"] for i in client.get("/v1/invoices?status=draft", headers=headers()).get_json()["items"]] == [other["id"]]
    both = client.get(f"/v1/invoices?contact_id={louise}&status=draft,paid", headers=headers()).get_json()["items"]
    assert {i["id"] for i in both} == {invoice["id"], other["id"]}
    first = client.get("/v1/invoices?limit=1", headers=headers()).get_json()
    second = client.get(f"/v1/invoices?limit=1&cursor={first['next_cursor']}", headers=headers()).get_json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [other["id"], invoice["id"]]
    assert second["next_cursor"] is None
    assert client.get("/v1/invoices", headers=headers("acct-2")).get_json()["items"] == []
    assert client.get(f"/v1/invoices/{invoice['id']}", headers=headers("acct-2")).status_code == 404
    dated = client.get(f"/v1/invoices?issued_from={issued['issued_on']}&issued_to={issued['issued_on']}",
                       headers=headers()).get_json()["items"]
    assert [i["id"] for i in dated] == [invoice["id"]]


def test_amounts_are_strings_or_integers_never_floats(client, louise):
    invoice = client.post(f"/v1/invoices/{draft(client, louise)['id']}/issue", headers=headers()).get_json()
    floated = client.post(f"/v1/invoices/{invoice['id']}/payments", headers=headers(), json={
        "amount": 10.5, "paid_on": invoice["issued_on"], "method": "card"})
    assert floated.status_code == 422 and "amount" in floated.get_json()["errors"]
    bad_line = client.post("/v1/invoices", headers=headers(), json={
        "contact_id": louise, "lines": [{**LINE, "unit_price": 450.5}]})
    assert bad_line.status_code == 422 and "lines.0.unit_price" in bad_line.get_json()["errors"]
    whole = client.post(f"/v1/invoices/{invoice['id']}/payments", headers=headers(), json={
        "amount": 10, "paid_on": invoice["issued_on"], "method": "card"})
    assert whole.status_code == 201 and whole.get_json()["amount_paid"] == "10.00"


def test_an_overpayment_is_refused_and_a_payment_removed_with_its_reason(client, louise):
    invoice = client.post(f"/v1/invoices/{draft(client, louise, lines=[LINE])['id']}/issue",
                          headers=headers()).get_json()
    over = client.post(f"/v1/invoices/{invoice['id']}/payments", headers=headers(), json={
        "amount": "99999", "paid_on": invoice["issued_on"], "method": "card"})
    assert over.status_code == 422 and "amount" in over.get_json()["errors"]
    paid = client.post(f"/v1/invoices/{invoice['id']}/payments", headers=headers(), json={
        "amount": "100", "paid_on": invoice["issued_on"], "method": "card"}).get_json()
    [payment] = paid["payments"]
    removed = client.delete(f"/v1/invoices/{invoice['id']}/payments/{payment['id']}", headers=headers(),
                            json={"reason": "saisie en double"})
    assert removed.status_code == 200 and removed.get_json()["payments"] == []
    voided = client.post(f"/v1/invoices/{invoice['id']}/void", headers=headers(), json={"reason": "erreur"})
    assert voided.status_code == 200 and voided.get_json()["status"] == "void"


def test_a_credit_note_reduces_the_amount_due_with_its_own_series(client, container, settings, louise):
    invoice = draft(client, louise, lines=[LINE])
    client.post(f"/v1/invoices/{invoice['id']}/issue", headers=headers())
    note = client.post("/v1/credit-notes", headers=headers(), json={
        "invoice_id": invoice["id"], "reason": "une journée offerte", "lines": [{**LINE, "quantity": "1"}]})
    assert note.status_code == 201, note.get_json()
    assert note.get_json()["number"].startswith("AV-") and note.get_json()["total"] == "540.00"
    shown = client.get(f"/v1/invoices/{invoice['id']}", headers=headers()).get_json()
    assert shown["amount_due"] == "1080.00"
    # what the API answers is what its OpenAPI document declares (no undeclared member: schemathesis's ST108)
    assert InvoiceSchema().validate(shown) == {} and CreditNoteSchema().validate(note.get_json()) == {}
    too_much = client.post("/v1/credit-notes", headers=headers(), json={"invoice_id": invoice["id"], "reason": "tout"})
    assert too_much.status_code == 422
    project_everything(container, settings)
    listed = client.get(f"/v1/credit-notes?invoice_id={invoice['id']}", headers=headers()).get_json()["items"]
    assert [n["id"] for n in listed] == [note.get_json()["id"]]


def test_drafts_are_deleted_and_a_deleted_contact_gets_none(client, louise):
    invoice = draft(client, louise)
    assert client.delete(f"/v1/invoices/{invoice['id']}?revision=1", headers=headers()).status_code == 204
    assert client.get(f"/v1/invoices/{invoice['id']}", headers=headers()).status_code == 404
    gone = client.post("/v1/invoices", headers=headers(), json={"contact_id": "contact:gone", "lines": [LINE]})
    assert gone.status_code in (409, 422) and gone.content_type == "application/problem+json"
    unknown = client.post("/v1/invoices", headers=headers(), json={"contact_id": "contact:nobody", "lines": [LINE]})
    assert unknown.status_code in (404, 422)
    bad = client.get("/v1/invoices?status=late", headers=headers())
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]


def issued_for(client, container, account):
    """An issued invoice of `account`, for a contact billing heard of."""
    contact_id = f"contact:louise-{account}"
    container.apply_to_customers(ContactEvents(container.cipher, account).created(contact_id, LOUISE))
    answer = client.post("/v1/invoices", headers=headers(account), json={"contact_id": contact_id, "lines": [LINE]})
    issued = client.post(f"/v1/invoices/{answer.get_json()['id']}/issue", headers=headers(account))
    assert issued.status_code == 200, issued.get_json()
    return issued.get_json()


def test_a_credit_note_id_is_the_accounts_own_key_never_another_accounts_or_aggregates_id(client, container):
    mine, theirs = issued_for(client, container, "acct-1"), issued_for(client, container, "acct-2")
    first = client.post("/v1/credit-notes", headers=headers("acct-1"), json={
        "invoice_id": mine["id"], "reason": "Annulée", "lines": [{**LINE, "quantity": "1"}], "credit_note_id": "c-1"})
    assert first.status_code == 201, first.get_json()
    again = client.post("/v1/credit-notes", headers=headers("acct-1"), json={
        "invoice_id": mine["id"], "reason": "Annulée", "lines": [{**LINE, "quantity": "1"}], "credit_note_id": "c-1"})
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["number"] == first.get_json()["number"]
    # acct-2 reusing acct-1's key, or acct-1's note id, gets its own note: nothing tells that acct-1 has one
    for key in ("c-1", first.get_json()["id"]):
        other = client.post("/v1/credit-notes", headers=headers("acct-2"), json={
            "invoice_id": theirs["id"], "reason": "x", "lines": [{**LINE, "quantity": "1"}], "credit_note_id": key})
        assert other.status_code == 201, other.get_json()
        assert other.get_json()["id"] != first.get_json()["id"]
    # a key spelled as another account's settings id leaves those settings alone
    squat = client.post("/v1/credit-notes", headers=headers("acct-1"), json={
        "invoice_id": mine["id"], "reason": "x", "lines": [{**LINE, "quantity": "1"}],
        "credit_note_id": "billing-settings:acct-3"})
    assert squat.status_code == 201, squat.get_json()
    changed = client.patch("/v1/billing-settings", headers=headers("acct-3"), json={"revision": 0, "notes": "Merci"})
    assert changed.status_code == 200, changed.get_json()
