"""The retention job: when an invoice kept for the law after its person's erasure reaches the end of its
retention (domain/retention.py), its document key is shredded, erasing its personal data and its credit notes'.

One job for the whole system (under the "retention" lease, as the recurring scheduler), hourly: each round asks
the invoices read model for the restricted invoices whose `retain_until` is before today and whose key is not
shredded yet, and for each:
  1. checks, on the invoice itself (the read model may lag), that it is restricted and its retention ended,
     once its date is made to cover every issue year of the invoice and its credit notes as they are NOW (an issue
     or a credit note finished after the erasure restricted them moves it on a year: the key is kept);
  2. shreds its key `billing-document:<invoice id>`;
  3. records InvoiceRetentionEnded, so that the read models (and consumers) hear of it; the read model then marks
     the invoice `erased`, and the next rounds no longer ask for it.
The event comes after the shred, as nothing readable is left to load the invoice from: it is appended on its
own after the invoice's last event. A round stopped between 2 and 3 finds the invoice again and records it.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Callable, Iterable

from crm_platform.event_codec import EventCodec
from crm_platform.event_store import ConcurrencyConflict, EventStore
from crm_platform.liveness import still_working
from crm_platform.worker_runtime import Loop, every

from billing.domain.account_defaults import utc_now
from billing.domain.invoice_events import DOCUMENT_SUBJECT, InvoiceRetentionEnded
from billing.domain.invoices import Invoice
from billing.domain.retention import retain_until, retention_ended
from billing.service_layer.handlers import retried
from billing.service_layer.privacy import DocumentKeys
from billing.service_layer.recurring_scheduler import SchedulerLease

log = logging.getLogger(__name__)
RETENTION_EVERY_S = 3600.0
# (account id, invoice id) of the restricted invoices retained until before that day, their key not shredded yet
ExpiredRetentions = Callable[[date], Iterable[tuple[str, str]]]


def end_expired_retentions(expired: ExpiredRetentions, lease: SchedulerLease, unit_of_work: Callable,
                           store: EventStore, codec: EventCodec, keys: DocumentKeys,
                           now: Callable[[], datetime] = utc_now) -> int:
    """One round (only while this process holds the lease): how many invoices' retentions ended."""
    if not lease.acquire_or_renew():
        return 0
    today, ended = now().date(), 0
    for account_id, invoice_id in expired(today):
        if not lease.acquire_or_renew():  # another process took over: it carries on from here
            break
        if end_retention(account_id, invoice_id, today, unit_of_work, store, codec, keys):
            ended += 1
        still_working()
    return ended


def end_retention(account_id: str, invoice_id: str, today: date, unit_of_work: Callable, store: EventStore,
                  codec: EventCodec, keys: DocumentKeys) -> bool:
    """Shred the invoice's key if its retention has ended, then record it; whether anything was done."""
    key = DOCUMENT_SUBJECT.format(invoice_id=invoice_id)
    history, invoice = retried(lambda: _extend_to_latest_issue(unit_of_work, account_id, invoice_id, today))
    if not history or history[-1].event_type == InvoiceRetentionEnded.event_type():
        return False
    if invoice is not None:  # still readable: the invoice itself says whether its time has come
        if invoice.retain_until is None or not retention_ended(invoice.retain_until, today):
            return False
        keys.shred(key)
    elif not keys.is_erased(key):
        return False
    ended = InvoiceRetentionEnded(invoice_id, account_id, today.isoformat())
    try:
        store.append([codec.to_envelope(ended, Invoice.aggregate_type, invoice_id,
                                        history[-1].aggregate_version + 1, account_id)])
    except ConcurrencyConflict:  # another round recorded it meanwhile
        return False
    log.info("retention ended: document key shredded", extra={"invoice_id": invoice_id})
    return True


def _extend_to_latest_issue(unit_of_work: Callable, account_id: str, invoice_id: str, today: date) -> tuple:
    """The invoice's history and the invoice, its retention first made to cover every issue year of the key it
    shares with its credit notes AS THEY ARE NOW: an issue finished, or a credit note numbered, after the erasure
    restricted them (an issue stopped on 31 December and finished in January is dated then) moves the date on,
    and such a note is restricted too."""
    with unit_of_work() as uow:
        history = uow.invoices.history(account_id, invoice_id)
        invoice = uow.invoices.find(account_id, invoice_id)
        if invoice is None or invoice.retain_until is None:
            return history, invoice
        notes = [note for note in (uow.credit_notes.find(account_id, note_id) for note_id in invoice.credits)
                 if note is not None and not note.abandoned]  # taken off the invoice: numbered now or later
        until = max(invoice.retain_until, retain_until(invoice.fiscal_year, *(note.fiscal_year for note in notes)))
        invoice.restrict_processing(until, invoice.restriction.legal_basis, today)
        for note in notes:
            note.restrict_processing(until, invoice.restriction.legal_basis, today)
        uow.commit()
        return uow.invoices.history(account_id, invoice_id), invoice


def retention_loop(round_: Callable[[], int], every_s: float = RETENTION_EVERY_S) -> Loop:
    """The worker's loop: a round at start, then every `every_s` (an hour), until stopped."""
    return every(every_s, round_, "ending retentions")
