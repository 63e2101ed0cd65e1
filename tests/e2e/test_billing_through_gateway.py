"""End to end: a contact created in contacts reaches billing through Kafka; an invoice for it goes from draft to
paid through the gateway, and billing's read model lists it as paid."""
import requests
from facturx import xml_check_xsd

from .conftest import bearer, eventually

LINE = {"description": "Création du site", "quantity": "2", "unit": "jour", "unit_price": "500.00",
        "taxes": [{"category": "S", "rate": "20"}]}


def test_draft_issue_partial_payment_payment_paid(system, account_a, account_b):
    contacts, invoices = f"{system.gateway_url}/v1/contacts", f"{system.gateway_url}/v1/invoices"
    contact = requests.post(contacts, json={"first_name": "Louise", "last_name": "Desnotes", "company": "Maison du Papier",
                                            "addresses": [{"tag": "billing", "city": "Lille", "country": "FR"}]},
                            headers=bearer(account_a), timeout=10).json()
    settings = requests.patch(f"{system.gateway_url}/v1/billing-settings", headers=bearer(account_a), timeout=10,
                              json={"revision": 0, "seller": {"name": "Maison du Papier SAS", "siren": "732829320",
                                                                "vat_number": "FR44732829320",
                                                                "address": {"city": "Paris", "country": "FR"}}})
    assert settings.status_code == 200, settings.text

    # billing knows the contact once its worker has read contacts.events
    created = eventually(lambda: requests.post(invoices, json={"contact_id": contact["id"], "lines": [LINE]},
                                               headers=bearer(account_a), timeout=10),
                         lambda r: r.status_code == 201, timeout_s=60)
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert invoice["status"] == "draft" and invoice["totals"]["total"] == "1200.00"

    issued = requests.post(f"{invoices}/{invoice['id']}/issue", headers=bearer(account_a), timeout=10)
    assert issued.status_code == 200, issued.text
    issued = issued.json()
    assert issued["number"].endswith("-0001") and issued["buyer"]["name"] == "Louise Desnotes"
    assert issued["seller"]["siren"] == "732829320"
    xml = requests.get(f"{invoices}/{invoice['id']}/xml", headers=bearer(account_a), timeout=10)
    assert xml.status_code == 200 and xml.headers["Content-Type"].startswith("application/xml"), xml.text
    assert xml_check_xsd(xml.content, flavor="factur-x", level="en16931") and b"<ram:TypeCode>380<" in xml.content
    assert requests.get(f"{invoices}/{invoice['id']}/xml", headers=bearer(account_b), timeout=10).status_code == 404

    part = requests.post(f"{invoices}/{invoice['id']}/payments", headers=bearer(account_a), timeout=10,
                         json={"amount": "200.00", "paid_on": issued["issued_on"], "method": "bank_transfer"})
    assert part.status_code == 201 and part.json()["status"] == "partially_paid" and part.json()["amount_due"] == "1000.00"
    paid = requests.post(f"{invoices}/{invoice['id']}/payments", headers=bearer(account_a), timeout=10,
                         json={"amount": "1000.00", "paid_on": issued["issued_on"], "method": "card"})
    assert paid.status_code == 201 and paid.json()["status"] == "paid"

    listed = eventually(lambda: requests.get(f"{invoices}?status=paid", headers=bearer(account_a), timeout=10).json(),
                        lambda page: [i["id"] for i in page["items"]] == [invoice["id"]])
    assert [(i["id"], i["number"], i["amount_due"]) for i in listed["items"]] == [(invoice["id"], issued["number"], "0.00")]
    assert requests.get(f"{invoices}/{invoice['id']}", headers=bearer(account_b), timeout=10).status_code == 404
    assert requests.get(invoices, headers=bearer(account_b), timeout=10).json()["items"] == []


def test_a_retried_draft_or_payment_with_its_idempotency_key_happens_once(system, account_b):
    contacts, invoices = f"{system.gateway_url}/v1/contacts", f"{system.gateway_url}/v1/invoices"
    contact = requests.post(contacts, json={"company": "Atelier Martin"}, headers=bearer(account_b), timeout=10).json()
    known = eventually(lambda: requests.post(invoices, json={"contact_id": contact["id"], "lines": [LINE]},
                                             headers=bearer(account_b), timeout=10),
                       lambda r: r.status_code == 201, timeout_s=60)  # billing knows the contact now
    assert known.status_code == 201, known.text
    key = {**bearer(account_b), "Idempotency-Key": "draft-atelier-martin-1"}
    first = requests.post(invoices, json={"contact_id": contact["id"], "lines": [LINE]}, headers=key, timeout=10)
    assert first.status_code == 201, first.text
    again = requests.post(invoices, json={"contact_id": contact["id"], "lines": [LINE]}, headers=key, timeout=10)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    invoice = first.json()
    issued = requests.post(f"{invoices}/{invoice['id']}/issue", headers=bearer(account_b), timeout=10).json()
    pay = {**bearer(account_b), "Idempotency-Key": "payment-atelier-martin-1"}
    body = {"amount": "100.00", "paid_on": issued["issued_on"], "method": "check"}
    paid = requests.post(f"{invoices}/{invoice['id']}/payments", json=body, headers=pay, timeout=10)
    replayed = requests.post(f"{invoices}/{invoice['id']}/payments", json=body, headers=pay, timeout=10)
    assert paid.status_code == replayed.status_code == 201, (paid.text, replayed.text)
    assert len(replayed.json()["payments"]) == 1 and replayed.json()["amount_paid"] == "100.00"
