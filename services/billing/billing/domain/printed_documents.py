"""A billing document as it is printed (preview HTML and PDF): what the template shows, and nothing else.

Built from the aggregate alone (an issued document's frozen seller, buyer and totals) so that an issued
document prints the same whatever changes later; a draft has no seller snapshot yet and prints with the
account's seller and the contact as they are now. `final` says whether the document can change no more: its PDF is then
rendered once and kept (service_layer/printing.py), and it carries no draft watermark.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from billing.domain import document_lines
from billing.domain.invoice_events import DOCUMENT_SUBJECT
from billing.domain.retention import accounting_buyer
from billing.domain.totals import Totals

INVOICE, CREDIT_NOTE, QUOTE = "invoice", "credit_note", "quote"
FINAL_QUOTE_STAGES = ("sent", "accepted", "declined", "converted")  # numbered and frozen


@dataclass(frozen=True)
class PrintedLine:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rates: tuple[Decimal, ...]
    net: Decimal


@dataclass(frozen=True)
class PrintedDocument:
    kind: str  # INVOICE, CREDIT_NOTE or QUOTE
    document_id: str
    subject_key: str  # the key sealing the document's personal data: its kept PDF is sealed with it too
    final: bool  # numbered and frozen: no draft watermark, the PDF is kept
    number: str | None
    currency: str
    issued_on: str | None  # ISO; a quote's sent_on
    seller: dict
    buyer: dict
    lines: tuple[PrintedLine, ...]
    totals: Totals
    prices_include_tax: bool = False
    due_on: str | None = None  # invoices
    valid_until: str | None = None  # quotes
    payment_term: dict | None = None  # invoices: PaymentTerm.to_dict()
    period: dict | None = None  # invoices: the invoicing period {start, end} it bills (EN 16931 BG-14)
    invoice_number: str | None = None  # credit notes: the invoice they correct
    reason: str | None = None  # credit notes
    notes: str = ""
    legal_terms: str = ""
    restricted: bool = False  # kept for the law only: printed without what the accounting record does not need
    void: bool = False  # a voided invoice: printed stamped as such
    # a final invoice's or credit note's EN 16931 XML, made when its PDF is rendered (its PDF is then a Factur-X):
    # not when a kept PDF is only read again
    e_invoice_xml: Callable[[], bytes | None] | None = field(default=None, compare=False, repr=False)


def printed_invoice(invoice, seller_now: dict, buyer_now: dict | None = None) -> PrintedDocument:
    """The invoice as printed; `seller_now` (the account's seller today) and `buyer_now` (its contact as billing
    knows it today) are used until issue freezes its own."""
    draft, restricted = invoice.draft, invoice.retain_until is not None
    return PrintedDocument(
        kind=INVOICE, document_id=invoice.id, subject_key=invoice.subject_key,
        final=invoice.stage in ("issued", "void"), number=invoice.number,
        currency=invoice.currency, issued_on=invoice.issued_on, seller=invoice.seller or seller_now,
        buyer=accounting_buyer(invoice.buyer) if restricted else invoice.buyer or buyer_now or {},
        lines=_lines(draft.get("lines", []), invoice.totals), totals=invoice.totals,
        prices_include_tax=draft.get("prices_include_tax", False), due_on=invoice.due_on,
        payment_term=draft.get("payment_term"), period=draft.get("period"), notes="" if restricted else draft.get("notes") or "",
        legal_terms=draft.get("legal_terms") or "", restricted=restricted, void=invoice.stage == "void")


def printed_credit_note(note) -> PrintedDocument:
    started = note.started
    buyer = started.buyer if note.retain_until is None else accounting_buyer(started.buyer)
    return PrintedDocument(
        kind=CREDIT_NOTE, document_id=note.id, subject_key=DOCUMENT_SUBJECT.format(invoice_id=started.invoice_id),
        final=note.issued, number=note.number, currency=started.currency,
        issued_on=started.issued_on, seller=started.seller, buyer=buyer, lines=_lines(note.lines, note.totals),
        totals=note.totals, prices_include_tax=started.prices_include_tax, invoice_number=started.invoice_number,
        reason=started.reason, restricted=note.retain_until is not None)


def printed_quote(quote, seller_now: dict, buyer_now: dict | None = None) -> PrintedDocument:
    draft = quote.draft
    return PrintedDocument(
        kind=QUOTE, document_id=quote.id, subject_key=quote.subject_key,
        final=quote.stage in FINAL_QUOTE_STAGES, number=quote.number,
        currency=quote.currency, issued_on=quote.sent_on, seller=quote.seller or seller_now,
        buyer=quote.buyer or buyer_now or {},
        lines=_lines(draft.get("lines", []), quote.totals), totals=quote.totals,
        prices_include_tax=draft.get("prices_include_tax", False), valid_until=quote.valid_until,
        notes=draft.get("notes") or "", legal_terms=draft.get("legal_terms") or "")


def _lines(lines: list[dict], totals: Totals) -> tuple[PrintedLine, ...]:
    """The stored lines with the net of each (the totals' line nets, in the same order)."""
    values = document_lines.to_lines(lines)
    return tuple(PrintedLine(line.description, line.quantity, line.unit, line.unit_price,
                             tuple(tax.rate for tax in line.taxes), net)
                 for line, net in zip(values, totals.line_nets))
