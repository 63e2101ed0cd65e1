"""End to end through the gateway: a quote sent, accepted and converted to an invoice that is issued and paid; a
monthly recurring invoice created with an anchor two months back, whose three past months the worker's scheduler
generates, exactly one invoice per month, however many rounds it runs. (No worker is stopped here: the outage
itself, crashes and restarts are the unit tests' (test_recurring_handlers.py), on the fakes.)"""
import time
from datetime import date, datetime, timedelta, timezone

import requests

from .conftest import bearer, eventually

LINE = {"description": "Maintenance du site", "quantity": "1", "unit": "mois", "unit_price": "300.00",
        "taxes": [{"category": "S", "rate": "20"}]}


def billing_customer(system, account, company: str) -> str:
    """A contact of the account, and the account's billing settings (its day in UTC): billing knows it once its
    worker has read contacts.events."""
    contact = requests.post(f"{system.gateway_url}/v1/contacts", json={"company": company}, headers=bearer(account),
                            timeout=10).json()
    settings = requests.patch(f"{system.gateway_url}/v1/billing-settings", headers=bearer(account), timeout=10,
                              json={"revision": 0, "time_zone": "UTC", "seller": {"name": "Agence Dupont SARL",
                                                                                  "siren": "732829320"}})
    assert settings.status_code == 200, settings.text
    return contact["id"]


def first_of_month_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, 1)


def test_a_quote_is_sent_accepted_converted_and_its_invoice_issued_and_paid(system):
    account = system.create_account("Atelier des Devis")
    quotes, invoices = f"{system.gateway_url}/v1/quotes", f"{system.gateway_url}/v1/invoices"
    contact_id = billing_customer(system, account, "Maison du Papier")
    created = eventually(lambda: requests.post(quotes, json={"contact_id": contact_id, "lines": [LINE]},
                                               headers=bearer(account), timeout=10),
                         lambda r: r.status_code == 201, timeout_s=60)
    assert created.status_code == 201, created.text
    quote = created.json()
    assert quote["status"] == "draft" and quote["total"] == "360.00"

    sent = requests.post(f"{quotes}/{quote['id']}/send", headers=bearer(account), timeout=10)
    assert sent.status_code == 200 and sent.json()["status"] == "sent", sent.text
    assert sent.json()["number"].endswith("-0001") and sent.json()["seller"]["siren"] == "732829320"
    accepted = requests.post(f"{quotes}/{quote['id']}/accept", headers=bearer(account), timeout=10)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    converted = requests.post(f"{quotes}/{quote['id']}/convert", headers=bearer(account), timeout=10)
    assert converted.status_code == 200 and converted.json()["status"] == "converted", converted.text
    invoice_id = converted.json()["invoice_id"]

    issued = requests.post(f"{invoices}/{invoice_id}/issue", headers=bearer(account), timeout=10)
    assert issued.status_code == 200 and issued.json()["status"] == "issued", issued.text
    assert issued.json()["lines"] == sent.json()["lines"] and issued.json()["amount_due"] == "360.00"
    paid = requests.post(f"{invoices}/{invoice_id}/payments", headers=bearer(account), timeout=10,
                         json={"amount": "360.00", "paid_on": issued.json()["issued_on"], "method": "bank_transfer"})
    assert paid.status_code == 201 and paid.json()["status"] == "paid", paid.text

    listed = eventually(lambda: requests.get(f"{quotes}?status=converted", headers=bearer(account), timeout=10).json(),
                        lambda page: [q["id"] for q in page["items"]] == [quote["id"]])
    assert [(q["id"], q["invoice_id"]) for q in listed["items"]] == [(quote["id"], invoice_id)]
    paid_invoices = eventually(lambda: requests.get(f"{invoices}?status=paid", headers=bearer(account), timeout=10).json(),
                               lambda page: [i["id"] for i in page["items"]] == [invoice_id])
    assert [i["id"] for i in paid_invoices["items"]] == [invoice_id]


def test_a_monthly_schedule_backdated_two_months_gets_exactly_one_invoice_per_past_month(system):
    account = system.create_account("Atelier Mensuel")
    recurring_invoices, invoices = f"{system.gateway_url}/v1/recurring-invoices", f"{system.gateway_url}/v1/invoices"
    contact_id = billing_customer(system, account, "Atelier Martin")
    today = datetime.now(timezone.utc).date()
    # anchored on the 1st of the month before last: that 1st, last month's and this month's are due at once: 3
    anchor = first_of_month_before(today, 2)
    created = eventually(lambda: requests.post(recurring_invoices, headers=bearer(account), timeout=10, json={
        "contact_id": contact_id, "schedule": {"anchor": anchor.isoformat(), "every": 1, "unit": "month"},
        "mode": "issue", "lines": [LINE]}), lambda r: r.status_code == 201, timeout_s=60)
    assert created.status_code == 201, created.text
    recurring = created.json()

    def read():
        return requests.get(f"{recurring_invoices}/{recurring['id']}", headers=bearer(account), timeout=10).json()

    caught_up = eventually(read, lambda r: len(r["generated"]) >= 3, timeout_s=60)
    assert [g["k"] for g in caught_up["generated"]] == [0, 1, 2], caught_up
    time.sleep(3)  # the scheduler runs every second: three more rounds at least
    again = read()
    assert again["generated"] == caught_up["generated"] and again["revision"] == caught_up["revision"]
    assert again["next_due_on"] == first_of_month_before(today, -1).isoformat()

    listed = eventually(lambda: requests.get(f"{invoices}?contact_id={contact_id}", headers=bearer(account),
                                             timeout=10).json(), lambda page: len(page["items"]) >= 3)
    assert sorted(i["id"] for i in listed["items"]) == sorted(g["invoice_id"] for g in again["generated"])
    assert {i["status"] for i in listed["items"]} == {"issued"}
    assert sorted(i["number"][-4:] for i in listed["items"]) == ["0001", "0002", "0003"]
    # all three issued today, each says which month it bills
    periods = [requests.get(f"{invoices}/{g['invoice_id']}", headers=bearer(account), timeout=10).json()["period"]
               for g in again["generated"]]
    assert periods == [{"start": first_of_month_before(today, 2 - k).isoformat(),
                        "end": (first_of_month_before(today, 1 - k) - timedelta(days=1)).isoformat()} for k in range(3)]
    page = requests.get(f"{recurring_invoices}?status=active", headers=bearer(account), timeout=10).json()
    assert [r["id"] for r in page["items"]] == [recurring["id"]]
