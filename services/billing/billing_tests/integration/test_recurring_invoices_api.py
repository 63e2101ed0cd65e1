"""Recurring invoices through the API and the scheduler's round on the real read model, lease and event store:
a monthly schedule whose three months were missed is caught up with exactly three invoices, once."""
import threading
from datetime import date, timedelta

import pytest

from billing.domain.recurring_commands import GenerateDueInvoices
from billing.service_layer import queries
from billing.service_layer.recurring_scheduler import generate_due_recurring_invoices

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers
from .test_invoices_api import LINE, project_everything


@pytest.fixture
def louise(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:louise", LOUISE))
    return "contact:louise"


def first_of_month_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, 1)


def project(container) -> None:
    """The read models caught up with every stored event (what the worker's documents consumer does)."""
    for envelope in container.event_store.read_all():
        container.apply_to_documents(envelope)


def scheduler_round(container) -> int:
    """What the worker holding the lease does each round, once the read models caught up."""
    project(container)
    return generate_due_recurring_invoices(container.bus, container.due_recurring_invoices, container.scheduler_lease(),
                                           container.retry_backoff)


def test_three_missed_months_are_caught_up_with_three_invoices_once(client, container, louise):
    today = queries.account_today("acct-1", container.unit_of_work(), container.clock)
    # occurrences on the 1st of the month before last, of last month and of this month: three due, whatever today is
    anchor = first_of_month_before(today, 2)
    created = client.post("/v1/recurring-invoices", headers=headers(), json={
        "contact_id": louise, "schedule": {"anchor": anchor.isoformat(), "every": 1, "unit": "month"},
        "mode": "issue", "lines": [LINE], "notes": "Maintenance mensuelle"})
    assert created.status_code == 201, created.get_json()
    recurring = created.get_json()
    assert created.headers["Location"] == f"/v1/recurring-invoices/{recurring['id']}"
    assert recurring["status"] == "active" and recurring["next_due_on"] == anchor.isoformat()
    assert recurring["totals"]["total"] == "1620.00" and recurring["generated"] == []

    assert scheduler_round(container) == 3
    assert scheduler_round(container) == 0  # a second round: nothing more, no duplicate
    read = client.get(f"/v1/recurring-invoices/{recurring['id']}", headers=headers()).get_json()
    assert [g["k"] for g in read["generated"]] == [0, 1, 2]
    assert read["next_due_on"] == first_of_month_before(today, -1).isoformat()
    invoices = [client.get(f"/v1/invoices/{g['invoice_id']}", headers=headers()).get_json() for g in read["generated"]]
    assert [i["status"] for i in invoices] == ["issued"] * 3
    assert sorted(i["number"][-4:] for i in invoices) == ["0001", "0002", "0003"]
    assert {i["notes"] for i in invoices} == {"Maintenance mensuelle"}
    project(container)
    listed = client.get(f"/v1/invoices?contact_id={louise}", headers=headers()).get_json()["items"]
    assert len(listed) == 3
    page = client.get("/v1/recurring-invoices?status=active", headers=headers()).get_json()["items"]
    assert [(r["id"], r["generated_count"], r["next_due_on"]) for r in page] == [
        (recurring["id"], 3, read["next_due_on"])]


def test_a_recurring_invoice_is_edited_paused_resumed_and_cancelled(client, container, settings, louise):
    recurring = client.post("/v1/recurring-invoices", headers=headers(), json={
        "contact_id": louise, "schedule": {"anchor": "2099-01-31", "every": 1, "unit": "month"},
        "lines": [LINE]}).get_json()
    assert recurring["mode"] == "draft" and recurring["currency"] == "EUR"
    edited = client.patch(f"/v1/recurring-invoices/{recurring['id']}", headers=headers(**{"If-Match": '"1"'}),
                          json={"notes": "Nouveau tarif", "mode": "issue"})
    assert edited.status_code == 200 and edited.get_json()["notes"] == "Nouveau tarif", edited.get_json()
    assert client.patch(f"/v1/recurring-invoices/{recurring['id']}", headers=headers(),
                        json={"revision": 1, "notes": "x"}).status_code == 409
    paused = client.post(f"/v1/recurring-invoices/{recurring['id']}/pause", headers=headers()).get_json()
    assert paused["status"] == "paused" and paused["next_due_on"] is None
    project_everything(container, settings)
    assert [r["id"] for r in client.get("/v1/recurring-invoices?status=paused", headers=headers()).get_json()["items"]] \
        == [recurring["id"]]
    resumed = client.post(f"/v1/recurring-invoices/{recurring['id']}/resume", headers=headers()).get_json()
    assert resumed["status"] == "active" and resumed["next_due_on"] == "2099-01-31"
    cancelled = client.post(f"/v1/recurring-invoices/{recurring['id']}/cancel", headers=headers(), json={})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    refused = client.patch(f"/v1/recurring-invoices/{recurring['id']}", headers=headers(), json={"notes": "y"})
    assert refused.status_code == 409 and refused.content_type == "application/problem+json"
    assert client.get(f"/v1/recurring-invoices/{recurring['id']}", headers=headers("acct-2")).status_code == 404
    assert client.get("/v1/recurring-invoices", headers=headers("acct-2")).get_json()["items"] == []


@pytest.mark.parametrize("fields, field", [
    ({"schedule": {"anchor": "2026-01-01", "every": 1.5, "unit": "month"}}, "schedule.every"),
    ({"schedule": {"anchor": "2026-01-01", "every": 1, "unit": "fortnight"}}, "schedule.unit"),
    ({"schedule": {"every": 1, "unit": "month"}}, "schedule.anchor"),
    ({"lines": [{**LINE, "unit_price": 450.5}]}, "lines.0.unit_price"), ({"lines": []}, "lines"),
    ({"mode": "send"}, "mode"), ({"payment_term": {"kind": "net", "days": "x"}}, "payment_term.days"),
])
def test_a_bad_recurring_invoice_is_a_422_naming_the_field(client, louise, fields, field):
    body = {"contact_id": louise, "schedule": {"anchor": "2026-01-01", "every": 1, "unit": "month"},
            "lines": [LINE], **fields}
    answer = client.post("/v1/recurring-invoices", headers=headers(), json=body)
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()
    assert answer.content_type == "application/problem+json"
    bad_status = client.get("/v1/recurring-invoices?status=sleeping", headers=headers())
    assert bad_status.status_code == 422 and "status" in bad_status.get_json()["errors"]


def test_two_schedulers_racing_on_the_database_make_each_occurrence_once_numbered_without_a_gap(
        client, container, louise):
    today = queries.account_today("acct-1", container.unit_of_work(), container.clock)
    created = client.post("/v1/recurring-invoices", headers=headers(), json={
        "contact_id": louise, "schedule": {"anchor": (today - timedelta(weeks=7)).isoformat(), "every": 1,
                                           "unit": "week"}, "mode": "issue", "lines": [LINE]})
    assert created.status_code == 201, created.get_json()
    command, errors = GenerateDueInvoices("acct-1", created.get_json()["id"]), []

    def scheduler():  # the lease held by neither (an operator's run beside the worker's, a lease handed over)
        try:
            container.bus.handle(command)
        except Exception as exc:  # collected, so that the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and container.bus.handle(command) == []
    read = client.get(f"/v1/recurring-invoices/{command.recurring_invoice_id}", headers=headers()).get_json()
    assert [g["k"] for g in read["generated"]] == list(range(8))  # weekly, 7 weeks ago to today
    numbers = [client.get(f"/v1/invoices/{g['invoice_id']}", headers=headers()).get_json()["number"]
               for g in read["generated"]]
    assert sorted(n[-4:] for n in numbers) == [f"{n:04d}" for n in range(1, 9)]
