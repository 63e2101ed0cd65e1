"""The scheduler of recurring invoices: one for the whole system (under a lease), never one per gunicorn worker.

Each round asks a read model for the recurring invoices whose next occurrence falls due by the latest
"today" of any time zone, and sends GenerateDueInvoices for each: the handler decides with the
account's own today, generates what is due oldest first, each occurrence once (its invoice id is the
key (recurring invoice id, k)). A second scheduler running anyway, or one restarted mid-round,
makes no second invoice: the lease only saves the work.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Protocol

from crm_platform.errors import CrmError
from crm_platform.liveness import still_working
from crm_platform.message_bus import MessageBus
from crm_platform.worker_runtime import Loop, every

from billing.domain.account_defaults import utc_now
from billing.domain.recurring_commands import GenerateDueInvoices

log = logging.getLogger(__name__)
SCHEDULE_EVERY_S = 60.0
LATEST_UTC_OFFSET = timedelta(hours=14)  # Pacific/Kiritimati: the first to reach a new day
# (account id, recurring invoice id) of the active recurring invoices whose next occurrence is due on or before a day
DueRecurringInvoices = Callable[[date], Iterable[tuple[str, str]]]


class SchedulerLease(Protocol):
    def acquire_or_renew(self) -> bool:
        """Whether this process holds the lease (crm_platform.leases.Lease)."""


class FailureBackoff(Protocol):
    def record_failure(self, kind: str, document_id: str, now: datetime) -> datetime | None:
        """Count a failure; the document is left out of the rounds until the time answered
        (billing/adapters/retry_backoff.py)."""


def generate_due_recurring_invoices(bus: MessageBus, due: DueRecurringInvoices, lease: SchedulerLease,
                                    backoff: FailureBackoff, now: Callable[[], datetime] = utc_now) -> int:
    """One round: generate what is due for each recurring invoice the read model names; how many invoices. One that
    fails is left out of the next rounds for a while (a backoff), so it neither heads every round nor floods the log."""
    if not lease.acquire_or_renew():
        return 0
    made = 0
    for account_id, recurring_invoice_id in due((now() + LATEST_UTC_OFFSET).date()):
        if not lease.acquire_or_renew():  # another process took over: it carries on from here
            break
        try:
            made += len(bus.handle(GenerateDueInvoices(account_id, recurring_invoice_id)))
        except CrmError as exc:  # a deleted contact, say: logged, left be a while, and the others are generated
            retry_after = backoff.record_failure("recurring_invoice", recurring_invoice_id, now())
            log.warning("a recurring invoice could not be generated", extra={
                "recurring_invoice_id": recurring_invoice_id, "error": type(exc).__name__,
                "retry_after": retry_after.isoformat() if retry_after else None})
        still_working()
    return made


def scheduler_loop(bus: MessageBus, due: DueRecurringInvoices, lease: SchedulerLease, backoff: FailureBackoff,
                   every_s: float = SCHEDULE_EVERY_S) -> Loop:
    """The worker's loop: a round at start, then every `every_s`, until stopped."""
    return every(every_s, lambda: generate_due_recurring_invoices(bus, due, lease, backoff),
                 "generating recurring invoices")
