"""Credit notes: the correction of an issued invoice, in full or in part, with their own gapless series.

A credit note is linked to one issued invoice and takes its total off the invoice's amount due,
never below zero (the invoice records the credit: `Invoice.credit`). A void invoice, or a draft,
cannot be credited. Its amounts are positive: the document says it is a credit.

Issuing one takes three writes, in this order, each safe to repeat:
  1. the credit note, frozen (CreditNoteIssueStarted): lines, totals, buyer and seller, date;
  2. the invoice records the credit (InvoiceCredited), checked against the invoice's current revision;
  3. its number is reserved (dated again if that is on a later day: numbers follow dates), then
     CreditNoteIssued carries it.
A crash after 1 leaves a credit note that never counted nor got a number (retrying finishes it);
after 2 or 3, a retry or the sweep finishes it with the same number. Between 1 and 2 the invoice
may change (a payment, a void, another credit note): if it then refuses the credit, the note is
ABANDONED (CreditNoteAbandoned, saying why): it never counted and no number was reserved for it, so
the sweep does not try it again and consumers that saw it started see it end.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crm_platform.aggregates import Aggregate, DomainEvent

from billing.domain import document_lines
from billing.domain.document_ids import scoped_id
from billing.domain.document_mail import DocumentNotSendable, DocumentSend
from billing.domain.errors import (CreditNoteNotAbandonable, CreditNoteNotFound, CreditNoteWasAbandoned,
                                   InvalidInvoice, ProcessingRestricted)
from billing.domain.invoice_events import DOCUMENT_SUBJECT
from billing.domain.invoices import MAX_REASON, Invoice
from billing.domain.mailed_documents import MailedDocument
from billing.domain.send_events import SendFailedFields, SendRequestedFields, SentFields
from billing.domain.money import money_text, round_money
from billing.domain.totals import Totals, compute_totals

CREDIT_NOTE_SERIES = "credit_notes"


class CreditNoteEvent(DomainEvent):
    """Sealed under its INVOICE's document key: a credit note holds the invoice's buyer, and one shred erases both."""

    aggregate_id_field = "credit_note_id"
    data_subject = DOCUMENT_SUBJECT


@dataclass(frozen=True)
class CreditNoteIssueStarted(CreditNoteEvent):
    """The credit note, frozen, before its number is reserved (see the module docstring)."""

    credit_note_id: str
    account_id: str
    contact_id: str
    invoice_id: str
    invoice_number: str
    currency: str
    lines: list  # as InvoiceDrafted's: without their descriptions
    descriptions: list  # sealed, as InvoiceDrafted's
    prices_include_tax: bool
    reason: str
    issued_on: str
    fiscal_year: int
    number_pattern: str
    buyer: dict  # the invoice's buyer snapshot
    seller: dict
    totals: dict  # Totals.to_dict()
    discount: dict | None = None  # the invoice's document discount (its share, for an amount and some lines)
    personal_fields = ("buyer", "reason", "descriptions")


@dataclass(frozen=True)
class CreditNoteIssued(CreditNoteEvent):
    credit_note_id: str
    account_id: str
    contact_id: str
    invoice_id: str
    number: str
    issued_on: str
    currency: str
    total: str  # taken off the invoice's amount due


@dataclass(frozen=True)
class CreditNoteAbandoned(CreditNoteEvent):
    """The invoice refused the credit (it changed since the note was started): no credit, no number, ever."""

    credit_note_id: str
    account_id: str
    contact_id: str
    invoice_id: str
    why: str  # the refusal, as the service worded it (amounts and ids, no personal data)


@dataclass(frozen=True)
class CreditNoteProcessingRestricted(CreditNoteEvent):
    """Kept for the law after its person asked for erasure (domain/retention.py), read only until `retain_until`:
    the date of its invoice's key, which seals both (InvoiceProcessingRestricted)."""

    credit_note_id: str
    account_id: str
    invoice_id: str
    retain_until: str
    legal_basis: str
    restricted_on: str


@dataclass(frozen=True)
class CreditNoteSendRequested(SendRequestedFields, CreditNoteEvent):
    """The issued credit note is to be mailed (domain/send_events.py), as InvoiceSendRequested."""

    credit_note_id: str
    account_id: str
    invoice_id: str  # whose key seals its addresses and texts, as every event of a credit note


@dataclass(frozen=True)
class CreditNoteSent(SentFields, CreditNoteEvent):
    credit_note_id: str
    account_id: str
    invoice_id: str


@dataclass(frozen=True)
class CreditNoteSendFailed(SendFailedFields, CreditNoteEvent):
    credit_note_id: str
    account_id: str
    invoice_id: str


class CreditNote(MailedDocument, Aggregate):
    aggregate_type = "CreditNote"
    event_classes = (CreditNoteIssueStarted, CreditNoteIssued, CreditNoteAbandoned, CreditNoteProcessingRestricted,
                     CreditNoteSendRequested, CreditNoteSent, CreditNoteSendFailed)
    not_found_error = CreditNoteNotFound
    mail_kind = "credit_note"
    send_events = (CreditNoteSendRequested, CreditNoteSent, CreditNoteSendFailed)

    def __init__(self, credit_note_id: str, account_id: str) -> None:
        super().__init__(credit_note_id, account_id)
        self.started: CreditNoteIssueStarted | None = None
        self.number: str | None = None
        self.abandoned_because: str | None = None
        self.retain_until: str | None = None  # restricted (kept for the law only) until then
        self.sends: dict[str, DocumentSend] = {}  # send id -> what became of it (domain/document_mail.py)

    @classmethod
    def start(cls, invoice: Invoice, lines: object, reason: object, issued_on: date, seller: dict,
              number_pattern: str, credit_note_id: str | None = None) -> "CreditNote":
        """A credit note of the whole invoice (`lines` None) or of the lines given, frozen for issuing.

        Credited lines take the invoice's document discount (a percentage as is, an amount in proportion
        to the credited lines' amounts), and may not credit more of a (category, rate) than the invoice's
        base of it not credited yet (422 naming `lines.N`).
        """
        reason = document_lines.checked_text(reason, "reason", max_length=MAX_REASON, required=True)
        given = lines
        if lines is None:
            lines, discount, totals = invoice.draft["lines"], invoice.draft.get("discount"), invoice.totals
        else:
            lines = document_lines.checked_lines(lines)
            if not lines:
                raise InvalidInvoice("lines", "a credit note credits at least one line (or leave lines out: all)")
            discount = _share_of_document_discount(invoice, lines)
            totals = compute_totals(document_lines.to_lines(lines), invoice.currency,
                                    prices_include_tax=invoice.draft["prices_include_tax"],
                                    discount=document_lines.to_discount(discount))
        if totals.total <= 0:
            raise InvalidInvoice("lines", "a credit note's total must be more than 0")
        invoice.check_creditable(totals, lines, lines_given=given is not None)
        note = cls(credit_note_id or f"credit-note:{uuid.uuid4()}", invoice.account_id)
        kept, descriptions = document_lines.without_descriptions(lines)
        note._record(CreditNoteIssueStarted(
            note.id, invoice.account_id, invoice.contact_id, invoice.id, invoice.number, invoice.currency,
            kept, descriptions, invoice.draft["prices_include_tax"], reason, issued_on.isoformat(), issued_on.year,
            number_pattern, dict(invoice.buyer), dict(seller), totals.to_dict(), discount))
        return note

    @property
    def lines(self) -> list[dict]:
        """The lines credited, with their descriptions."""
        return document_lines.with_descriptions(self.started.lines, self.started.descriptions)

    @property
    def invoice_id(self) -> str:
        return self.started.invoice_id

    @property
    def issued_on(self) -> date:
        return date.fromisoformat(self.started.issued_on)

    @property
    def fiscal_year(self) -> int:
        return self.started.fiscal_year

    @property
    def number_pattern(self) -> str:
        return self.started.number_pattern

    @property
    def totals(self) -> Totals:
        return Totals.from_dict(self.started.totals)

    @property
    def issued(self) -> bool:
        return self.number is not None

    @property
    def abandoned(self) -> bool:
        return self.abandoned_because is not None

    @property
    def status(self) -> str:
        """issuing, issued or abandoned."""
        return "issued" if self.issued else "abandoned" if self.abandoned else "issuing"

    @property
    def contact_id(self) -> str:
        return self.started.contact_id

    @property
    def currency(self) -> str:
        return self.started.currency

    @property
    def buyer(self) -> dict:
        """The invoice's buyer as it was frozen at its issue."""
        return self.started.buyer

    @property
    def seller(self) -> dict:
        return self.started.seller

    @property
    def subject_key(self) -> str:
        """The key sealing its personal data: its invoice's (one shred erases both)."""
        return DOCUMENT_SUBJECT.format(invoice_id=self.invoice_id)

    def check_sendable(self) -> None:
        """Only an issued credit note is mailed, and not once it is kept for the law only."""
        if self.retain_until is not None:
            raise ProcessingRestricted("credit_note", self.id, self.retain_until)
        if not self.issued:
            raise DocumentNotSendable("credit note", self.id, f"it is {self.status}; only an issued credit note is sent")

    def send_event_fields(self) -> dict:
        return {"invoice_id": self.invoice_id}

    def abandon(self, why: str) -> None:
        """The invoice refused the credit: the note ends here, unnumbered (once; never once issued)."""
        if self.issued:
            raise CreditNoteNotAbandonable(self.id)
        if not self.abandoned:
            started = self.started
            self._record(CreditNoteAbandoned(self.id, self.account_id, started.contact_id, started.invoice_id, why))

    def redate(self, today: date) -> bool:
        """Date a note started on an earlier day `today`, before its number is reserved (numbers follow dates:
        see Invoice.redate); recorded as its CreditNoteIssueStarted again. Whether anything changed."""
        if self.issued or self.abandoned or today <= self.issued_on:
            return False
        self._record(dataclasses.replace(self.started, issued_on=today.isoformat(), fiscal_year=today.year))
        return True

    def issue(self, number: str) -> None:
        """Record the reserved number (once: a retry changes nothing)."""
        if self.abandoned:
            raise CreditNoteWasAbandoned(self.id, self.abandoned_because)
        if self.number is None:
            started = self.started
            self._record(CreditNoteIssued(self.id, self.account_id, started.contact_id, started.invoice_id, number,
                                          started.issued_on, started.currency, money_text(self.totals.total)))

    def restrict_processing(self, retain_until: str, legal_basis: str, today: date) -> None:
        """Kept read only until `retain_until` (again, or until an earlier day: nothing is recorded)."""
        if self.retain_until is None or self.retain_until < retain_until:
            self._record(CreditNoteProcessingRestricted(self.id, self.account_id, self.invoice_id, retain_until,
                                                        legal_basis, today.isoformat()))

    def _apply(self, event: CreditNoteEvent) -> None:
        if isinstance(event, CreditNoteProcessingRestricted):
            self.retain_until = event.retain_until
        elif isinstance(event, CreditNoteIssueStarted):
            self.started = event
        elif isinstance(event, CreditNoteIssued):
            self.number = event.number
        elif isinstance(event, CreditNoteAbandoned):
            self.abandoned_because = event.why
        else:
            self._apply_send(event)


def credit_note_id_for(account_id: str, client_key: str) -> str:
    """The id of the credit note a client's credit_note_id asks for: the same on every retry, the account's own."""
    return scoped_id("credit-note", account_id, client_key)


def _share_of_document_discount(invoice: Invoice, lines: list[dict]) -> dict | None:
    """The invoice's document discount as it applies to some of its lines: a percentage as is; an amount in
    proportion to these lines' amounts (net, or with tax when prices include it), rounded to the minor unit."""
    discount = invoice.draft.get("discount")
    if discount is None or discount["kind"] == "percent":
        return discount
    include_tax, currency = invoice.draft["prices_include_tax"], invoice.currency

    def amount_of(some_lines: list[dict]) -> Decimal:
        totals = compute_totals(document_lines.to_lines(some_lines), currency, prices_include_tax=include_tax)
        return totals.total if include_tax else totals.net_total

    invoiced, credited = amount_of(invoice.draft["lines"]), amount_of(lines)
    if invoiced <= 0:
        return None
    share = round_money(Decimal(discount["value"]) * credited / invoiced, currency)
    return {"kind": "amount", "value": money_text(min(share, Decimal(discount["value"]), credited))}
