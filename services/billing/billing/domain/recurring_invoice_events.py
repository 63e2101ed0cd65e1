"""The events of a recurring invoice: its published contract.

`schedule` is recurrence.Schedule.to_dict() ({"anchor", "every", "unit", "ends", "count"?, "until"?});
`template` is what each generated invoice starts from: currency, lines, prices_include_tax,
payment_term, notes, legal_terms, discount (as a draft invoice holds them), its lines without their
descriptions, which travel apart in `template.descriptions` (as InvoiceDrafted's). The template's notes and
line descriptions are personal data, sealed with ONE key per recurring invoice,
`billing-document:<recurring invoice id>` (each invoice it generates is a document with its own key).
Occurrences are numbered k = 0, 1, 2... across the whole life of the recurring invoice; `first_k` is
the k of the schedule's anchor (0, until an edit of the schedule starts it anew from the next one).
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.aggregates import DomainEvent

from billing.domain import document_lines

RECURRING_SUBJECT = "billing-document:{recurring_invoice_id}"


def sealable_template(template: dict) -> dict:
    """The template as events hold it: the line descriptions apart, to be sealed."""
    lines, descriptions = document_lines.without_descriptions(template["lines"])
    return {**template, "lines": lines, "descriptions": descriptions}


def whole_template(stored: dict) -> dict:
    """The template as `sealable_template` was given it."""
    template = {name: value for name, value in stored.items() if name != "descriptions"}
    return {**template, "lines": document_lines.with_descriptions(stored["lines"], stored["descriptions"])}


class RecurringInvoiceEvent(DomainEvent):
    aggregate_id_field = "recurring_invoice_id"
    data_subject = RECURRING_SUBJECT


@dataclass(frozen=True)
class RecurringInvoiceScheduled(RecurringInvoiceEvent):
    recurring_invoice_id: str
    account_id: str
    contact_id: str
    schedule: dict
    mode: str  # "issue": each invoice is issued when generated; "draft": left as a draft for staff
    template: dict
    personal_fields = ("template.notes", "template.descriptions")


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
    personal_fields = ("template.notes", "template.descriptions")


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


@dataclass(frozen=True)
class RecurringInvoiceErased(RecurringInvoiceEvent):
    """The person it is for asked for erasure: it is deleted (nothing more is generated) and its key shredded
    right after this event. The invoices it generated are documents of their own."""

    recurring_invoice_id: str
    account_id: str


RECURRING_INVOICE_EVENTS = (RecurringInvoiceScheduled, RecurringInvoiceEdited, RecurringInvoicePaused,
                            RecurringInvoiceResumed, RecurringInvoiceCancelled, RecurringInvoiceGenerated,
                            RecurringInvoiceErased)
