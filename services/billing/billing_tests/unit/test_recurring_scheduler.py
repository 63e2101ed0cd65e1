"""The scheduler's round on the fakes: only the lease holder works, and one failing schedule holds up no other."""
from datetime import date

from crm_platform.message_bus import MessageBus

from billing.domain.recurring_commands import CreateRecurringInvoice
from billing.domain.recurring_invoices import occurrence_invoice_id
from billing.service_layer import recurring_scheduler

from .document_fakes import DocumentsUnitOfWork
from .fakes import clock_at
from .test_invoices import BUYER, WEB_DAYS
from .test_recurring_handlers import COMMAND_HANDLERS

# 10:30 UTC on 31 March: in Paris still the 31st; in Kiritimati (UTC+14) already 1 April.
NOW = clock_at("2026-03-31T10:30")


class FakeLease:
    def __init__(self, held: bool = True) -> None:
        self.held = held

    def acquire_or_renew(self) -> bool:
        return self.held


class FakeBackoff:
    def __init__(self) -> None:
        self.failures: list[tuple[str, str]] = []

    def record_failure(self, kind, document_id, now):
        self.failures.append((kind, document_id))
        return now


def setup():
    uow = DocumentsUnitOfWork()
    bus = MessageBus.build(COMMAND_HANDLERS, {}, {"uow": uow, "clock": NOW})
    asked = []

    def due(latest_day: date):
        """What the read model answers: every active recurring invoice whose next occurrence is due by that day."""
        asked.append(latest_day)
        with uow:
            found = [uow.recurring_invoices.get("acct-1", rid) for rid in ("recurring-invoice:a", "recurring-invoice:b")]
        return [("acct-1", r.id) for r in found if r.next_due_on is not None and r.next_due_on <= latest_day]

    for name in ("a", "b"):
        uow.customers.put("acct-1", f"contact:{name}", BUYER)
        bus.handle(CreateRecurringInvoice("acct-1", f"contact:{name}", {"anchor": "2026-01-01", "every": 1,
                                                                         "unit": "month"}, "draft", lines=(WEB_DAYS,),
                                          recurring_invoice_id=f"recurring-invoice:{name}"))
    return uow, bus, due, asked


def test_a_round_generates_what_is_due_in_each_accounts_own_day():
    uow, bus, due, asked = setup()
    assert recurring_scheduler.generate_due_recurring_invoices(bus, due, FakeLease(), FakeBackoff(), now=NOW) == 6
    # the read model is asked for Kiritimati's day; the handler still generates by Paris' day (no 1 April yet)
    assert asked == [date(2026, 4, 1)]
    assert recurring_scheduler.generate_due_recurring_invoices(bus, due, FakeLease(), FakeBackoff(), now=NOW) == 0


def test_only_the_lease_holder_generates():
    uow, bus, due, asked = setup()
    assert recurring_scheduler.generate_due_recurring_invoices(bus, due, FakeLease(held=False), FakeBackoff(),
                                                               now=NOW) == 0
    assert asked == [] and not [e for e in uow.store.all_events if e.event_type == "InvoiceDrafted"]


def test_a_schedule_that_fails_holds_up_no_other():
    uow, bus, due, asked = setup()
    uow.customers.put("acct-1", "contact:a", BUYER, deleted=True)
    backoff = FakeBackoff()
    assert recurring_scheduler.generate_due_recurring_invoices(bus, due, FakeLease(), backoff, now=NOW) == 3
    assert backoff.failures == [("recurring_invoice", "recurring-invoice:a")]  # left be a while, not every minute
    made = {e.aggregate_id for e in uow.store.all_events if e.event_type == "InvoiceDrafted"}
    assert made == {occurrence_invoice_id("acct-1", "recurring-invoice:b", k) for k in range(3)}
