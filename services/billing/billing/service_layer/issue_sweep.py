"""The sweep that finishes interrupted issues, so that every number reserved ends on an issued document.

(Quotes too: a quote is numbered when it is sent, in the same steps; one left `sending` is sent again.)

Issuing writes in steps (handlers.py): the document is frozen (issuing), its number reserved, then its
Issued event written. A process that dies between two steps leaves the document issuing, perhaps with
a number reserved for it. The worker's sweep sends the issue again for every document still issuing
after a grace period (a request may be finishing it right now): the handler finishes it with the
number reserved already, or reserves the next one. Sent twice, it changes nothing; still, one sweep runs
at a time in the whole system (the worker holding the "issue-sweep" lease), as the scheduler does, so
that workers do not all send the same commands and race on the same documents.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from crm_platform.errors import CrmError
from crm_platform.message_bus import MessageBus
from crm_platform.worker_runtime import Loop, every

from billing.domain.commands import FinishCreditNote, IssueInvoice
from billing.domain.quote_commands import SendQuote
from billing.service_layer.recurring_scheduler import FailureBackoff, SchedulerLease

log = logging.getLogger(__name__)
GRACE = timedelta(minutes=2)
SWEEP_EVERY_S = 60.0
# (kind, account id, document id) of documents still issuing since before a time; kind "invoice", "credit_note" or
# "quote" (still sending)
FINISH = {"invoice": IssueInvoice, "credit_note": FinishCreditNote, "quote": SendQuote}
InterruptedIssues = Callable[[datetime], Iterable[tuple[str, str, str]]]


def finish_interrupted_issues(bus: MessageBus, interrupted: InterruptedIssues, lease: SchedulerLease,
                              backoff: FailureBackoff, grace: timedelta = GRACE,
                              now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> int:
    """Send the issue again for each document issuing since before `now - grace` (only while this process holds
    the lease); how many were finished. One that fails is left out of the next sweeps for a while (a backoff)."""
    if not lease.acquire_or_renew():
        return 0
    finished = 0
    for kind, account_id, document_id in interrupted(now() - grace):
        if not lease.acquire_or_renew():  # another process took over: it carries on from here
            break
        command = FINISH[kind](account_id, document_id)
        try:
            bus.handle(command)
            finished += 1
        except CrmError as exc:  # one document that cannot be finished does not hold up the others
            retry_after = backoff.record_failure(kind, document_id, now())
            log.warning("an interrupted issue could not be finished", extra={
                "kind": kind, "document_id": document_id, "error": type(exc).__name__,
                "retry_after": retry_after.isoformat() if retry_after else None})
    return finished


def sweep_loop(bus: MessageBus, interrupted: InterruptedIssues, lease: SchedulerLease, backoff: FailureBackoff,
               every_s: float = SWEEP_EVERY_S) -> Loop:
    """The worker's loop: a sweep at start, then every `every_s`, until stopped (sweeping only under the lease)."""
    return every(every_s, lambda: finish_interrupted_issues(bus, interrupted, lease, backoff),
                 "finishing interrupted issues")
