"""The events of a quote: its published contract, so each is small and keeps its shape.

Money is a string ("120.50"), dates ISO strings, lines and totals plain dicts of strings (as an
invoice's). Personal data (the buyer snapshot, notes, line descriptions, a decline's reason) is sealed
with ONE key per quote, `billing-document:<quote id>`, whichever contact an event names, for the
reasons invoice_events.py gives: a quote's data stands or falls together. The invoice a quote is
converted to has its own key (its own document).
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.aggregates import DomainEvent

from billing.domain import document_lines
from billing.domain.send_events import SendFailedFields, SendRequestedFields, SentFields

QUOTE_SUBJECT = "billing-document:{quote_id}"


class QuoteEvent(DomainEvent):
    aggregate_id_field = "quote_id"
    data_subject = QUOTE_SUBJECT


@dataclass(frozen=True)
class QuoteContent(QuoteEvent):
    """The whole draft (not an event itself): what QuoteDrafted and QuoteDraftUpdated both carry."""

    quote_id: str
    account_id: str
    contact_id: str
    currency: str
    lines: list  # as InvoiceDrafted's: without their descriptions
    descriptions: list  # each line's description (sealed like notes)
    prices_include_tax: bool
    notes: str
    legal_terms: str
    valid_until: str | None = None  # ISO date, the last day it may be accepted; None: 30 days after sending
    discount: dict | None = None  # {"kind": "percent"|"amount", "value": "10"}
    personal_fields = ("notes", "descriptions")

    @classmethod
    def of(cls, quote_id: str, account_id: str, draft: dict) -> "QuoteContent":
        """The event of a draft's fields (quotes.checked_content), its line descriptions apart."""
        lines, descriptions = document_lines.without_descriptions(draft["lines"])
        return cls(quote_id, account_id, **{**draft, "lines": lines, "descriptions": descriptions})

    def draft(self, names: tuple[str, ...]) -> dict:
        """The draft's fields `names`, as `of` was given them."""
        fields = {name: getattr(self, name) for name in names}
        return {**fields, "lines": document_lines.with_descriptions(self.lines, self.descriptions)}


@dataclass(frozen=True)
class QuoteDrafted(QuoteContent):
    """A new draft: no number yet; every field but the ids may be edited until it is sent."""


@dataclass(frozen=True)
class QuoteDraftUpdated(QuoteContent):
    """The draft as it now is (the whole draft: a reader needs no earlier event to know it)."""


@dataclass(frozen=True)
class QuoteDraftDeleted(QuoteEvent):
    quote_id: str
    account_id: str


@dataclass(frozen=True)
class QuoteSendStarted(QuoteEvent):
    """The draft is frozen for sending: date, validity, buyer and seller snapshots and totals fixed, its number
    being reserved. Written BEFORE the number is reserved (as InvoiceIssueStarted), so that a reserved number
    always finds its quote (nothing can delete or change it now) and the sweep of reserved numbers can finish it."""

    quote_id: str
    account_id: str
    contact_id: str  # the contact it was frozen for (the survivor, if the draft's contact was merged)
    sent_on: str
    valid_until: str
    fiscal_year: int
    number_pattern: str
    buyer: dict
    seller: dict
    totals: dict  # Totals.to_dict()
    personal_fields = ("buyer",)


@dataclass(frozen=True)
class QuoteSent(QuoteEvent):
    quote_id: str
    account_id: str
    contact_id: str
    number: str
    sent_on: str
    valid_until: str
    currency: str
    total: str


@dataclass(frozen=True)
class QuoteAccepted(QuoteEvent):
    """The customer accepted it (staff record it on the customer's behalf), on this day of the account."""

    quote_id: str
    account_id: str
    contact_id: str
    accepted_on: str


@dataclass(frozen=True)
class QuoteDeclined(QuoteEvent):
    quote_id: str
    account_id: str
    contact_id: str
    declined_on: str
    reason: str = ""
    personal_fields = ("reason",)


@dataclass(frozen=True)
class QuoteConverted(QuoteEvent):
    """A draft invoice now carries the quote's lines; the quote is done."""

    quote_id: str
    account_id: str
    contact_id: str
    invoice_id: str
    converted_on: str


@dataclass(frozen=True)
class QuoteErased(QuoteEvent):
    """The person it is for asked for erasure: the quote is deleted, whatever its stage, and its document key
    shredded right after this event (a quote is no accounting document: nothing keeps it)."""

    quote_id: str
    account_id: str


@dataclass(frozen=True)
class QuoteMailRequested(SendRequestedFields, QuoteEvent):
    """A numbered quote is to be mailed (domain/send_events.py), as InvoiceSendRequested; not `QuoteSent`, which
    names the quote numbered and frozen."""

    quote_id: str
    account_id: str


@dataclass(frozen=True)
class QuoteMailed(SentFields, QuoteEvent):
    quote_id: str
    account_id: str


@dataclass(frozen=True)
class QuoteMailFailed(SendFailedFields, QuoteEvent):
    quote_id: str
    account_id: str


QUOTE_EVENTS = (QuoteDrafted, QuoteDraftUpdated, QuoteDraftDeleted, QuoteSendStarted, QuoteSent, QuoteAccepted,
                QuoteDeclined, QuoteConverted, QuoteErased, QuoteMailRequested, QuoteMailed, QuoteMailFailed)
