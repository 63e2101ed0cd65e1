"""Bad input to the invoice endpoints is a 422 problem naming the field, never a 500 nor a silent default."""
import pytest

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers
from .test_invoices_api import LINE, draft


@pytest.fixture
def louise(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:louise", LOUISE))
    return "contact:louise"


@pytest.mark.parametrize("fields, field", [
    ({"payment_term": {}}, "payment_term.kind"), ({"payment_term": []}, "payment_term"),
    ({"currency": ""}, "currency"), ({"lines": [LINE, 7]}, "lines.1"),
    ({"lines": [{**LINE, "taxes": [{"category": "S", "rate": "20"}, {"category": "S", "rate": "10"}]}]},
     "lines.0.taxes"),
])
def test_a_bad_draft_is_a_422_naming_the_field(client, louise, fields, field):
    answer = client.post("/v1/invoices", headers=headers(), json={"contact_id": louise, "lines": [LINE], **fields})
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()


def test_an_invoicing_period_is_kept_changed_shown_and_a_bad_one_is_a_422_naming_its_date(client, louise):
    january = {"start": "2026-01-01", "end": "2026-01-31"}
    created = client.post("/v1/invoices", headers=headers(), json={"contact_id": louise, "lines": [LINE],
                                                                   "period": january})
    assert created.status_code == 201 and created.get_json()["period"] == january
    reversed_ = client.patch(f"/v1/invoices/{created.get_json()['id']}", headers=headers(),
                             json={"period": {"start": "2026-02-01", "end": "2026-01-31"}})
    assert reversed_.status_code == 422 and reversed_.content_type == "application/problem+json"
    assert list(reversed_.get_json()["errors"]) == ["period.end"]
    cleared = client.patch(f"/v1/invoices/{created.get_json()['id']}", headers=headers(), json={"period": None})
    assert cleared.status_code == 200 and cleared.get_json()["period"] is None
    missing = client.post("/v1/invoices", headers=headers(), json={"contact_id": louise, "lines": [LINE],
                                                                   "period": {"start": "2026-01-01"}})
    assert missing.status_code == 422 and list(missing.get_json()["errors"]) == ["period.end"]


def test_a_payment_before_the_issue_date_and_a_credit_beyond_the_invoice_are_422s(client, louise):
    invoice = client.post(f"/v1/invoices/{draft(client, louise, lines=[LINE])['id']}/issue", headers=headers()).get_json()
    early = client.post(f"/v1/invoices/{invoice['id']}/payments", headers=headers(), json={
        "amount": "10", "paid_on": "2000-01-01", "method": "card"})
    assert early.status_code == 422 and "paid_on" in early.get_json()["errors"]
    beyond = client.post("/v1/credit-notes", headers=headers(), json={
        "invoice_id": invoice["id"], "reason": "Retour", "lines": [{**LINE, "quantity": "4"}]})
    assert beyond.status_code == 422 and "lines.0" in beyond.get_json()["errors"]
