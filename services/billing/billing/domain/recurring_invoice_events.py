"""The events of a recurring invoice: its published contract.

`schedule` is recurrence.Schedule.to_dict() ({"anchor", "every", "unit", "ends", "count"?, "until"?});
`template` is what each generated invoice starts from: currency, lines, prices_include_tax,
payment_term, notes, legal_terms, discount (as InvoiceDrafted holds them). The template's notes are
personal data, sealed with the billing subject key of its contact, as on invoices.
Occurrences are numbered k = 0, 1, 2... across the whole life of the recurring invoice; `first_k` is
the k of the schedule's anchor (0, until an edit of the schedule starts it anew from the next one).
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.aggregates import DomainEvent

from billing.domain.invoice_events import BILLING_SUBJECT


class RecurringInvoiceEvent(DomainEvent):
    aggregate_id_field = "recurring_invoice_id"
    data_subject = BILLING_SUBJECT


@dataclass(frozen=True)
class RecurringInvoiceScheduled(RecurringInvoiceEvent):
    recurring_invoice_id: str
    account_id: str
    contact_id: str
    schedule: dict
    mode: str  # "issue": each invoice is issued when generated; "draft": left as a draft for staff
    template: dict
    personal_fields = ("template.notes",)


@dataclass(frozen=True)
class RecurringInvoiceEdited(RecurringInvoiceEvent):
    """The whole recurring invoice as it now is; it applies to occurrences generated from now on."""

    recurring_invoice_id: str
    account_id: str
    contact_id: str
    schedule: dict
    mode: str
    template: dict
    first_k: int  # the k of the schedule's anchor
    personal_fields = ("template.notes",)


@dataclass(frozen=True)
class RecurringInvoicePaused(RecurringInvoiceEvent):
    recurring_invoice_id: str
    account_id: str
    paused_on: str


@dataclass(frozen=True)
class RecurringInvoiceResumed(RecurringInvoiceEvent):
    """Generation goes on from occurrence `next_k`, the first on or after the day it resumed: what fell due
    while it was paused is not generated afterwards."""

    recurring_invoice_id: str
    account_id: str
    resumed_on: str
    next_k: int


@dataclass(frozen=True)
class RecurringInvoiceCancelled(RecurringInvoiceEvent):
    recurring_invoice_id: str
    account_id: str
    cancelled_on: str


@dataclass(frozen=True)
class RecurringInvoiceGenerated(RecurringInvoiceEvent):
    """Occurrence k made invoice `invoice_id` (once: the key (recurring invoice id, k) is never generated twice).
    The period it bills runs from its occurrence date to the day before the next occurrence."""

    recurring_invoice_id: str
    account_id: str
    contact_id: str
    k: int
    invoice_id: str
    occurrence_on: str
    period_end: str | None = None  # None past the year 9999


RECURRING_INVOICE_EVENTS = (RecurringInvoiceScheduled, RecurringInvoiceEdited, RecurringInvoicePaused,
                            RecurringInvoiceResumed, RecurringInvoiceCancelled, RecurringInvoiceGenerated)
