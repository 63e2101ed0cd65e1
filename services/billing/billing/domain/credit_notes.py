"""Credit notes: the correction of an issued invoice, in full or in part, with their own gapless series.

A credit note is linked to one issued invoice and takes its total off the invoice's amount due,
never below zero (the invoice records the credit: `Invoice.credit`). A void invoice, or a draft,
cannot be credited. Its amounts are positive: the document says it is a credit.

Issuing one takes three writes, in this order, each safe to repeat:
  1. the credit note, frozen (CreditNoteIssueStarted): lines, totals, buyer and seller, date;
  2. the invoice records the credit (InvoiceCredited), checked against the invoice's current revision;
  3. its number is reserved, then CreditNoteIssued carries it.
A crash after 1 leaves a credit note that never counted nor got a number (retrying finishes it);
after 2 or 3, a retry or the sweep finishes it with the same number.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from crm_platform.aggregates import Aggregate, DomainEvent

from billing.domain import document_lines
from billing.domain.errors import CreditNoteNotFound, InvalidInvoice
from billing.domain.invoice_events import BILLING_SUBJECT
from billing.domain.invoices import MAX_REASON, Invoice
from billing.domain.money import money_text
from billing.domain.totals import Totals, compute_totals

CREDIT_NOTE_SERIES = "credit_notes"


class CreditNoteEvent(DomainEvent):
    aggregate_id_field = "credit_note_id"
    data_subject = BILLING_SUBJECT


@dataclass(frozen=True)
class CreditNoteIssueStarted(CreditNoteEvent):
    """The credit note, frozen, before its number is reserved (see the module docstring)."""

    credit_note_id: str
    account_id: str
    contact_id: str
    invoice_id: str
    invoice_number: str
    currency: str
    lines: list  # as InvoiceDrafted's
    prices_include_tax: bool
    reason: str
    issued_on: str
    fiscal_year: int
    number_pattern: str
    buyer: dict  # the invoice's buyer snapshot
    seller: dict
    totals: dict  # Totals.to_dict()
    discount: dict | None = None  # a full credit note carries the invoice's document discount
    personal_fields = ("buyer", "reason")


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


class CreditNote(Aggregate):
    aggregate_type = "CreditNote"
    event_classes = (CreditNoteIssueStarted, CreditNoteIssued)
    not_found_error = CreditNoteNotFound

    def __init__(self, credit_note_id: str, account_id: str) -> None:
        super().__init__(credit_note_id, account_id)
        self.started: CreditNoteIssueStarted | None = None
        self.number: str | None = None

    @classmethod
    def start(cls, invoice: Invoice, lines: list | None, reason: object, issued_on: date, seller: dict,
              number_pattern: str, credit_note_id: str | None = None) -> "CreditNote":
        """A credit note of the whole invoice (`lines` None) or of the lines given, frozen for issuing."""
        reason = document_lines.checked_text(reason, "reason", max_length=MAX_REASON, required=True)
        if lines is None:
            lines, discount, totals = invoice.draft["lines"], invoice.draft.get("discount"), invoice.totals
        else:
            lines, discount = document_lines.checked_lines(lines), None
            if not lines:
                raise InvalidInvoice("lines", "a credit note credits at least one line (or leave lines out: all)")
            totals = compute_totals(document_lines.to_lines(lines), invoice.currency,
                                    prices_include_tax=invoice.draft["prices_include_tax"])
        if totals.total <= 0:
            raise InvalidInvoice("lines", "a credit note's total must be more than 0")
        invoice.check_creditable(totals.total)
        note = cls(credit_note_id or f"credit-note:{uuid.uuid4()}", invoice.account_id)
        note._record(CreditNoteIssueStarted(
            note.id, invoice.account_id, invoice.contact_id, invoice.id, invoice.number, invoice.currency,
            list(lines), invoice.draft["prices_include_tax"], reason, issued_on.isoformat(), issued_on.year,
            number_pattern, dict(invoice.buyer), dict(seller), totals.to_dict(), discount))
        return note

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

    def issue(self, number: str) -> None:
        """Record the reserved number (once: a retry changes nothing)."""
        if self.number is None:
            started = self.started
            self._record(CreditNoteIssued(self.id, self.account_id, started.contact_id, started.invoice_id, number,
                                          started.issued_on, started.currency, money_text(self.totals.total)))

    def _apply(self, event: CreditNoteEvent) -> None:
        if isinstance(event, CreditNoteIssueStarted):
            self.started = event
        elif isinstance(event, CreditNoteIssued):
            self.number = event.number
