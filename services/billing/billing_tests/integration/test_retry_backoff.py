"""The scheduler's and the sweep's lists on the real database: every document a page at a time, those that failed
left be until their backoff ends, so that none holds up the others."""
from datetime import datetime, timedelta, timezone

from billing import document_views, views
from billing.adapters.retry_backoff import delay_after
from billing.domain import commands

from ..contact_events import LOUISE, ContactEvents

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def test_the_scheduler_reaches_the_schedules_behind_those_that_fail(container):
    recurring = container.recurring_invoices.collection
    ids = [f"recurring-invoice:{n}" for n in range(5)]
    recurring.insert_many([{"_id": rid, "account_id": "acct-1", "state": "active", "next_due_on": f"2026-01-0{n + 1}",
                            "version": 1} for n, rid in enumerate(ids)])

    def due(now):
        return [rid for _, rid in document_views.due_recurring_invoices(recurring, "2026-03-01", now, page_size=2)]

    assert due(NOW) == ids  # the oldest due first, past the page size
    for rid in ids[:3]:  # a deleted contact, say: they fail on every round
        container.retry_backoff.record_failure("recurring_invoice", rid, NOW)
    assert due(NOW) == ids[3:]
    assert due(NOW + delay_after(1)) == ids  # their backoff is over: tried again
    container.retry_backoff.record_failure("recurring_invoice", ids[0], NOW)
    assert due(NOW + delay_after(1)) == ids[1:]  # failed twice: left be longer


def test_the_sweep_reaches_the_issues_behind_those_it_cannot_finish(container):
    since = NOW - timedelta(minutes=2)
    invoices = container.invoices.collection
    invoices.insert_many([{"_id": f"invoice:{n}", "account_id": "acct-1", "stage": "issuing", "version": 1,
                           "updated_at": since - timedelta(minutes=10 - n)} for n in range(5)])
    container.quotes.collection.insert_one({"_id": "quote:1", "account_id": "acct-1", "stage": "sending",
                                            "version": 1, "updated_at": since - timedelta(hours=1)})

    def interrupted(now):
        return [(kind, doc_id) for kind, _, doc_id in views.interrupted_issues(
            invoices, container.credit_notes.collection, container.quotes.collection, since, now, page_size=2)]

    assert interrupted(NOW) == [("invoice", f"invoice:{n}") for n in range(5)] + [("quote", "quote:1")]
    for n in range(3):
        container.retry_backoff.record_failure("invoice", f"invoice:{n}", NOW)
    assert interrupted(NOW) == [("invoice", "invoice:3"), ("invoice", "invoice:4"), ("quote", "quote:1")]


def test_a_document_that_changes_is_tried_again_at_once(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:1", LOUISE))
    invoice = container.bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:1", ()))
    for envelope in container.event_store.read_all():
        container.apply_to_documents(envelope)
    container.retry_backoff.record_failure("invoice", invoice.id, NOW)
    assert container.invoices.collection.find_one({"_id": invoice.id})["failures"] == 1
    container.bus.handle(commands.UpdateInvoiceDraft("acct-1", invoice.id, None, {"notes": "Merci"}))
    for envelope in container.event_store.read_all():
        container.apply_to_documents(envelope)
    doc = container.invoices.collection.find_one({"_id": invoice.id})
    assert "failures" not in doc and "retry_after" not in doc


def test_the_backoff_doubles_up_to_a_day():
    assert [delay_after(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert delay_after(12) == delay_after(1000) == timedelta(days=1)
