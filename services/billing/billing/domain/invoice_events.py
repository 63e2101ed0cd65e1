"""The events of an invoice: its published contract, so each is small and keeps its shape.

Money is a string ("120.50"), dates ISO strings, lines and totals plain dicts of strings.
Personal data (the buyer snapshot, notes, and the free texts staff type about a payment or a void)
is sealed with ONE key per document, `billing-document:<invoice id>`, on every event of the invoice
and of its credit notes, whichever contact an event names. Not the contact's own key, so that erasure
can respect the legal retention of invoices; and not a key per contact either: a draft moved from
one contact to another would keep its first events under the first contact's key, and erasing that
contact would make the second one's issued invoice unloadable (a reserved number stranded). A
document's data stands or falls together.

Privacy: erasure of a person must find every key that holds their data. Each such event names its
`contact_id` in clear next to the sealed `personal.subject`, and the invoices read model lists, per
document, `subject_key` and `contacts_ever` (every contact the document was ever for): the keys of a
person are those of the documents listing them. Shredding one erases that document's personal data
for every contact it was for; whether and when (legal retention) is the privacy service's decision.
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.aggregates import DomainEvent

from billing.domain import document_lines
from billing.domain.send_events import SendFailedFields, SendRequestedFields, SentFields

DOCUMENT_SUBJECT = "billing-document:{invoice_id}"  # a credit note's events name their invoice_id too


class InvoiceEvent(DomainEvent):
    aggregate_id_field = "invoice_id"
    data_subject = DOCUMENT_SUBJECT


@dataclass(frozen=True)
class DraftContent(InvoiceEvent):
    """The whole draft (not an event itself): what InvoiceDrafted and InvoiceDraftUpdated both carry."""

    invoice_id: str
    account_id: str
    contact_id: str
    currency: str
    lines: list  # [{"quantity", "unit", "unit_price", "taxes": [{"category", "rate"}], "discount"?}]
    descriptions: list  # each line's description (free text staff type, sealed like notes)
    prices_include_tax: bool
    payment_term: dict  # PaymentTerm.to_dict()
    notes: str
    legal_terms: str
    discount: dict | None = None  # {"kind": "percent"|"amount", "value": "10"}
    period: dict | None = None  # {"start", "end"} ISO dates (EN 16931 BG-14); absent from events before it existed
    personal_fields = ("notes", "descriptions")

    @classmethod
    def of(cls, invoice_id: str, account_id: str, draft: dict) -> "DraftContent":
        """The event of a draft's fields (document_lines.checked_draft), its line descriptions apart."""
        lines, descriptions = document_lines.without_descriptions(draft["lines"])
        return cls(invoice_id, account_id, **{**draft, "lines": lines, "descriptions": descriptions})

    def draft(self) -> dict:
        """The draft's fields, as `of` was given them."""
        fields = {name: getattr(self, name) for name in document_lines.DRAFT_FIELDS}
        return {**fields, "lines": document_lines.with_descriptions(self.lines, self.descriptions)}


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
    (nothing can delete or change it now). Written again, with a later date (and due date, fiscal year),
    when its number is first asked for on a later day (a retry, the sweep): numbers follow dates."""

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
    """Nothing is left to pay and payments were made: they cover what credit notes, if any, left due.
    (An invoice credit notes cover in full, nothing paid, is `credited`: its InvoiceCredited says amount_due 0.)"""

    invoice_id: str
    account_id: str
    contact_id: str
    paid_on: str  # the latest payment's date


@dataclass(frozen=True)
class InvoiceCredited(InvoiceEvent):
    """A credit note reduced the amount due (recorded on the invoice, so that payments and credits are
    checked against one revision: the amount due never goes below zero)."""

    invoice_id: str
    account_id: str
    contact_id: str
    credit_note_id: str
    currency: str
    amount: str
    amount_due: str
    bases: list  # [{"category", "rate", "amount", "base"}]: per (category, rate), the line amounts (before the
    # document discount) and the taxable base credited


@dataclass(frozen=True)
class InvoiceVoided(InvoiceEvent):
    invoice_id: str
    account_id: str
    contact_id: str
    reason: str
    personal_fields = ("reason",)


@dataclass(frozen=True)
class InvoiceProcessingRestricted(InvoiceEvent):
    """The person it is for asked for erasure and the law keeps it (domain/retention.py): from now on it is read
    only, until `retain_until` (inclusive), when its document key is shredded. Recorded again with a later date
    by the retention job (service_layer/retention.py) when the issue years of the invoice and its credit notes, as
    they are when the date comes, call for a later one: an issue or a credit note finished after the restriction."""

    invoice_id: str
    account_id: str
    retain_until: str
    legal_basis: str
    restricted_on: str


@dataclass(frozen=True)
class InvoiceRetentionEnded(InvoiceEvent):
    """Its retention ended and its document key was shredded (before this event): its personal data, and its
    credit notes', can no longer be read anywhere. Amounts, dates and number stay."""

    invoice_id: str
    account_id: str
    ended_on: str


@dataclass(frozen=True)
class InvoiceSendRequested(SendRequestedFields, InvoiceEvent):
    """The issued invoice is to be mailed (domain/send_events.py)."""

    invoice_id: str
    account_id: str


@dataclass(frozen=True)
class InvoiceSent(SentFields, InvoiceEvent):
    invoice_id: str
    account_id: str


@dataclass(frozen=True)
class InvoiceSendFailed(SendFailedFields, InvoiceEvent):
    invoice_id: str
    account_id: str


INVOICE_EVENTS = (InvoiceDrafted, InvoiceDraftUpdated, InvoiceDraftDeleted, InvoiceIssueStarted, InvoiceIssued,
                  InvoicePaymentRecorded, InvoicePaymentRemoved, InvoicePaid, InvoiceCredited, InvoiceVoided,
                  InvoiceProcessingRestricted, InvoiceRetentionEnded, InvoiceSendRequested, InvoiceSent,
                  InvoiceSendFailed)
