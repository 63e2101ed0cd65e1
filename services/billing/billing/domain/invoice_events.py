"""The events of an invoice: its published contract, so each is small and keeps its shape.

Money is a string ("120.50"), dates ISO strings, lines and totals plain dicts of strings.
Personal data (the buyer snapshot, notes, and the free texts staff type about a payment or a void)
is sealed with the billing subject key of the invoice's contact, `billing-subject:<contact id>`, not
the contact's own key: erasure can then respect the legal retention of invoices (the privacy
issue decides what is shredded when).
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.aggregates import DomainEvent

BILLING_SUBJECT = "billing-subject:{contact_id}"


class InvoiceEvent(DomainEvent):
    aggregate_id_field = "invoice_id"
    data_subject = BILLING_SUBJECT


@dataclass(frozen=True)
class DraftContent(InvoiceEvent):
    """The whole draft (not an event itself): what InvoiceDrafted and InvoiceDraftUpdated both carry."""

    invoice_id: str
    account_id: str
    contact_id: str
    currency: str
    lines: list  # [{"description", "quantity", "unit", "unit_price", "taxes": [{"category", "rate"}], "discount"?}]
    prices_include_tax: bool
    payment_term: dict  # PaymentTerm.to_dict()
    notes: str
    legal_terms: str
    discount: dict | None = None  # {"kind": "percent"|"amount", "value": "10"}
    personal_fields = ("notes",)


@dataclass(frozen=True)
class InvoiceDrafted(DraftContent):
    """A new draft: no number yet; every field but the ids may be edited until it is issued."""


@dataclass(frozen=True)
class InvoiceDraftUpdated(DraftContent):
    """The draft as it now is (the whole draft: a reader needs no earlier event to know it)."""


@dataclass(frozen=True)
class InvoiceDraftDeleted(InvoiceEvent):
    invoice_id: str
    account_id: str


@dataclass(frozen=True)
class InvoiceIssueStarted(InvoiceEvent):
    """The draft is frozen for issuing: dates, buyer and seller snapshots and totals fixed, its number being
    reserved. Written BEFORE the number is reserved, so that a reserved number always finds its document
    (nothing can delete or change it now) and a sweep can finish the issue with the same date."""

    invoice_id: str
    account_id: str
    contact_id: str  # the contact it was frozen for (the survivor, if the draft's contact was merged)
    issued_on: str
    due_on: str
    fiscal_year: int
    number_pattern: str
    buyer: dict
    seller: dict
    totals: dict  # Totals.to_dict()
    personal_fields = ("buyer",)


@dataclass(frozen=True)
class InvoiceIssued(InvoiceEvent):
    invoice_id: str
    account_id: str
    contact_id: str
    number: str
    issued_on: str
    due_on: str
    currency: str
    total: str


@dataclass(frozen=True)
class InvoicePaymentRecorded(InvoiceEvent):
    invoice_id: str
    account_id: str
    contact_id: str
    payment_id: str
    amount: str
    paid_on: str
    method: str
    amount_due: str  # what is left to pay after it
    reference: str | None = None
    personal_fields = ("reference",)


@dataclass(frozen=True)
class InvoicePaymentRemoved(InvoiceEvent):
    invoice_id: str
    account_id: str
    contact_id: str
    payment_id: str
    reason: str
    amount_due: str
    personal_fields = ("reason",)


@dataclass(frozen=True)
class InvoicePaid(InvoiceEvent):
    """Nothing is left to pay (payments, and credit notes if any, cover the total)."""

    invoice_id: str
    account_id: str
    paid_on: str


@dataclass(frozen=True)
class InvoiceCredited(InvoiceEvent):
    """A credit note reduced the amount due (recorded on the invoice, so that payments and credits are
    checked against one revision: the amount due never goes below zero)."""

    invoice_id: str
    account_id: str
    credit_note_id: str
    amount: str
    amount_due: str


@dataclass(frozen=True)
class InvoiceVoided(InvoiceEvent):
    invoice_id: str
    account_id: str
    contact_id: str
    reason: str
    personal_fields = ("reason",)


INVOICE_EVENTS = (InvoiceDrafted, InvoiceDraftUpdated, InvoiceDraftDeleted, InvoiceIssueStarted, InvoiceIssued,
                  InvoicePaymentRecorded, InvoicePaymentRemoved, InvoicePaid, InvoiceCredited, InvoiceVoided)
