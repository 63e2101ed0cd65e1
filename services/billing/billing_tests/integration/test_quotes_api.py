"""Quotes through the API, the real event store, relay, Kafka and read models: draft -> sent -> accepted ->
converted to a draft invoice; expiry in the account's day; bad input named."""
from datetime import timedelta

import pytest

from billing.domain.account_defaults import utc_now
from billing.entrypoints.quote_schemas import QuoteSchema

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers
from .test_invoices_api import BOOKS, LINE, project_everything


@pytest.fixture
def louise(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:louise", LOUISE))
    return "contact:louise"


def new_quote(client, contact_id, **fields):
    answer = client.post("/v1/quotes", headers=headers(), json={"contact_id": contact_id, "lines": [LINE, BOOKS],
                                                                 **fields})
    assert answer.status_code == 201, answer.get_json()
    return answer


def days_later(container, days: int) -> None:
    """The container's clock moved `days` on (the bus, built once, is built again with it)."""
    container.clock = lambda: utc_now() + timedelta(days=days)
    container.__dict__.pop("bus", None)


def test_a_quote_is_sent_accepted_and_converted_to_an_invoice_that_is_issued(client, container, settings, louise):
    created = new_quote(client, louise, notes="Merci Louise")
    quote = created.get_json()
    assert created.headers["Location"] == created.headers["Content-Location"] == f"/v1/quotes/{quote['id']}"
    assert quote["status"] == "draft" and quote["number"] is None and quote["totals"]["total"] == "1672.73"
    assert quote["currency"] == "EUR" and quote["lines"][0]["description"] == LINE["description"]
    assert QuoteSchema().validate(quote) == {}  # nothing the OpenAPI document does not declare (ST108)
    changed = client.patch(f"/v1/quotes/{quote['id']}", headers=headers(**{"If-Match": '"1"'}),
                           json={"lines": [LINE]})
    assert changed.status_code == 200 and changed.get_json()["revision"] == 2, changed.get_json()
    stale = client.patch(f"/v1/quotes/{quote['id']}", headers=headers(), json={"revision": 1, "notes": "x"})
    assert stale.status_code == 409

    sent = client.post(f"/v1/quotes/{quote['id']}/send", headers=headers())
    assert sent.status_code == 200, sent.get_json()
    sent = sent.get_json()
    assert sent["status"] == "sent" and sent["number"].startswith("D-") and sent["number"].endswith("-0001")
    assert sent["buyer"]["name"] == "Louise Desnotes" and sent["valid_until"] > sent["sent_on"]
    again = client.post(f"/v1/quotes/{quote['id']}/send", headers=headers()).get_json()
    assert (again["number"], again["revision"]) == (sent["number"], sent["revision"])  # a retry: the same send
    assert client.patch(f"/v1/quotes/{quote['id']}", headers=headers(), json={"notes": "x"}).status_code == 409

    accepted = client.post(f"/v1/quotes/{quote['id']}/accept", headers=headers())
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    converted = client.post(f"/v1/quotes/{quote['id']}/convert", headers=headers())
    assert converted.status_code == 200, converted.get_json()
    invoice_id = converted.get_json()["invoice_id"]
    assert converted.get_json()["status"] == "converted" and invoice_id
    assert client.post(f"/v1/quotes/{quote['id']}/convert", headers=headers()).get_json()["invoice_id"] == invoice_id
    invoice = client.get(f"/v1/invoices/{invoice_id}", headers=headers()).get_json()
    assert invoice["status"] == "draft" and invoice["notes"] == "Merci Louise"
    assert invoice["lines"] == changed.get_json()["lines"]
    issued = client.post(f"/v1/invoices/{invoice_id}/issue", headers=headers()).get_json()
    assert issued["status"] == "issued" and issued["number"].startswith("F-") and issued["amount_due"] == "1620.00"

    declined = client.post(f"/v1/quotes/{new_quote(client, louise).get_json()['id']}/send", headers=headers()).get_json()
    answer = client.post(f"/v1/quotes/{declined['id']}/decline", headers=headers(), json={"reason": "trop cher"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "declined"
    assert answer.get_json()["number"].endswith("-0002")  # the quotes' own series, no gap
    assert client.post(f"/v1/quotes/{declined['id']}/convert", headers=headers()).status_code == 409
    draft = new_quote(client, louise).get_json()

    assert project_everything(container, settings) > 0
    listed = client.get("/v1/quotes", headers=headers()).get_json()["items"]
    assert [(q["id"], q["status"]) for q in listed] == [(draft["id"], "draft"), (declined["id"], "declined"),
                                                        (quote["id"], "converted")]
    assert listed[2]["invoice_id"] == invoice_id and listed[2]["buyer_name"] == "Louise Desnotes"
    both = client.get(f"/v1/quotes?status=draft,declined&contact_id={louise}", headers=headers()).get_json()["items"]
    assert {q["id"] for q in both} == {draft["id"], declined["id"]}
    first = client.get("/v1/quotes?limit=2", headers=headers()).get_json()
    rest = client.get(f"/v1/quotes?limit=2&cursor={first['next_cursor']}", headers=headers()).get_json()
    assert [q["id"] for q in rest["items"]] == [quote["id"]] and rest["next_cursor"] is None
    assert client.get("/v1/quotes", headers=headers("acct-2")).get_json()["items"] == []
    assert client.get(f"/v1/quotes/{quote['id']}", headers=headers("acct-2")).status_code == 404
    assert client.delete(f"/v1/quotes/{draft['id']}?revision=1", headers=headers()).status_code == 204
    assert client.get(f"/v1/quotes/{draft['id']}", headers=headers()).status_code == 404


def test_a_quote_expires_after_its_last_day_and_then_only_staff_convert_it(client, container, settings, louise):
    today = client.post(f"/v1/quotes/{new_quote(client, louise).get_json()['id']}/send",
                        headers=headers()).get_json()["sent_on"]
    quote = new_quote(client, louise, valid_until=today).get_json()
    sent = client.post(f"/v1/quotes/{quote['id']}/send", headers=headers()).get_json()
    assert sent["status"] == "sent" and sent["valid_until"] == today
    project_everything(container, settings)
    assert [q["id"] for q in client.get("/v1/quotes?status=expired", headers=headers()).get_json()["items"]] == []

    days_later(container, 2)
    assert client.get(f"/v1/quotes/{quote['id']}", headers=headers()).get_json()["status"] == "expired"
    assert [q["id"] for q in client.get("/v1/quotes?status=expired", headers=headers()).get_json()["items"]] == \
        [quote["id"]]
    refused = client.post(f"/v1/quotes/{quote['id']}/accept", headers=headers())
    assert refused.status_code == 409 and refused.content_type == "application/problem+json"
    converted = client.post(f"/v1/quotes/{quote['id']}/convert", headers=headers())
    assert converted.status_code == 200 and converted.get_json()["status"] == "converted"


@pytest.mark.parametrize("fields, field", [
    ({"lines": [{**LINE, "unit_price": 450.5}]}, "lines.0.unit_price"),
    ({"lines": [{**LINE, "quantity": 0.5}]}, "lines.0.quantity"),
    ({"valid_until": "31/12/2026"}, "valid_until"), ({"currency": "EURO"}, "currency"),
    ({"discount": {"kind": "percent", "value": 10.0}}, "discount.value"), ({"colour": "blue"}, "colour"),
])
def test_a_bad_quote_is_a_422_naming_the_field(client, louise, fields, field):
    answer = client.post("/v1/quotes", headers=headers(), json={"contact_id": louise, "lines": [LINE], **fields})
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()
    assert answer.content_type == "application/problem+json"


def test_bad_actions_and_filters_on_quotes_are_422s(client, louise):
    quote = new_quote(client, louise).get_json()
    bad_status = client.get("/v1/quotes?status=late", headers=headers())
    assert bad_status.status_code == 422 and "status" in bad_status.get_json()["errors"]
    bad_reason = client.post(f"/v1/quotes/{quote['id']}/decline", headers=headers(), json={"reason": 7})
    assert bad_reason.status_code == 422 and "reason" in bad_reason.get_json()["errors"]
    bad_revision = client.post(f"/v1/quotes/{quote['id']}/send", headers=headers(), json={"revision": "1"})
    assert bad_revision.status_code == 422 and "revision" in bad_revision.get_json()["errors"]
    unknown = client.post("/v1/quotes", headers=headers(), json={"contact_id": "contact:nobody", "lines": [LINE]})
    assert unknown.status_code == 422 and "contact_id" in unknown.get_json()["errors"]
