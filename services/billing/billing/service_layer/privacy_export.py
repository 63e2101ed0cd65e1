"""What a person's export holds of billing (issue 13, GDPR Art. 15 and 20): their documents as data (no I/O).

`data` has one flat list per CSV (`invoices`, `payments`, `credit_notes`, `quotes`, `recurring_invoices`: plain
values only) and `details`, each document whole (lines, totals, buyer and seller snapshots, notes) for the
machine-readable JSON. The PDFs of issued invoices are files of the export (service_layer/privacy.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from billing.domain.credit_notes import CreditNote
from billing.domain.invoices import Invoice
from billing.domain.money import money_text
from billing.domain.quotes import Quote
from billing.domain.recurring_invoices import RecurringInvoice
from billing.domain.retention import accounting_buyer

ABOUT = {
    "categories": [
        "the buyer's details as printed on documents: name, company, VAT number, billing address, emails",
        "quotes, invoices, credit notes and recurring invoices: lines, amounts, dates, notes, legal terms",
        "payments: amount, date, method, reference",
        "documents sent by e-mail: the addresses, the subject, when, and whether each mail went",
    ],
    "purposes": [
        "quoting, invoicing and collecting payment for the account's sales (contract, GDPR Art. 6(1)(b))",
        "keeping accounting records (legal obligation, GDPR Art. 6(1)(c))",
    ],
    "recipients": ["the account's staff", "the account's accountant and the tax authorities, where the law requires"],
    "retention": "issued invoices and credit notes, with their payments: 10 years after the end of their latest "
                 "issue year (French Code de commerce L123-22), read only once the person asks for erasure, then "
                 "erased; drafts, quotes and recurring invoices: until deleted, or the person's erasure",
    "source": "entered by the account's staff; the buyer's details copied from the contact (contacts service) "
              "when a document is issued or sent",
    "files": "invoices/<number>.pdf: each issued invoice as printed (PDF/A, in French); every document is also "
             "in the data",
}


@dataclass
class BillingExport:
    """The person's documents, flat (CSV) and whole (details)."""

    invoices: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    credit_notes: list = field(default_factory=list)
    quotes: list = field(default_factory=list)
    recurring_invoices: list = field(default_factory=list)
    details: dict = field(default_factory=lambda: {"invoices": [], "credit_notes": [], "quotes": [],
                                                   "recurring_invoices": []})

    @property
    def item_count(self) -> int:
        return len(self.invoices) + len(self.payments) + len(self.credit_notes) + len(self.quotes) + \
            len(self.recurring_invoices)

    def data(self) -> dict:
        return {"invoices": self.invoices, "payments": self.payments, "credit_notes": self.credit_notes,
                "quotes": self.quotes, "recurring_invoices": self.recurring_invoices, "details": self.details}

    def add_invoice(self, invoice: Invoice, today: date) -> None:
        """The invoice whole; restricted, without the buyer's emails, the notes and the payments' references (as
        the API serves it then: domain/retention.py)."""
        restricted = invoice.retain_until is not None
        period = invoice.draft.get("period")  # the days it bills: dates only, kept when restricted as the lines are
        row = {"id": invoice.id, "number": invoice.number, "status": invoice.status(today),
               "contact_id": invoice.contact_id, "issued_on": invoice.issued_on, "due_on": invoice.due_on,
               "period_start": period and period["start"], "period_end": period and period["end"],
               "currency": invoice.currency, "total": money_text(invoice.totals.total),
               "amount_paid": money_text(invoice.amount_paid), "amount_credited": money_text(invoice.amount_credited),
               "amount_due": money_text(invoice.amount_due), "buyer_name": _buyer_name(invoice.buyer),
               "retain_until": invoice.retain_until}
        self.invoices.append(row)
        payments = [{"invoice_id": invoice.id, "invoice_number": invoice.number, "payment_id": p.payment_id,
                     "amount": money_text(p.amount), "paid_on": p.paid_on, "method": p.method,
                     "reference": None if restricted else p.reference} for p in invoice.payments.values()]
        self.payments.extend(payments)
        self.details["invoices"].append({
            **row, "lines": invoice.draft.get("lines", []), "discount": invoice.draft.get("discount"),
            "prices_include_tax": invoice.draft.get("prices_include_tax"), "period": period,
            "payment_term": invoice.draft.get("payment_term"),
            "notes": None if restricted else invoice.draft.get("notes"),
            "legal_terms": invoice.draft.get("legal_terms"), "totals": invoice.totals.to_dict(),
            "buyer": accounting_buyer(invoice.buyer) if restricted else invoice.buyer, "seller": invoice.seller, "payments": payments, "paid_on": invoice.paid_on,
            "credit_note_ids": sorted(invoice.credits),
            "sends": _sends(invoice.sends.values(), restricted)})

    def add_credit_note(self, note: CreditNote) -> None:
        started = note.started
        row = {"id": note.id, "number": note.number, "status": note.status, "invoice_id": started.invoice_id,
               "invoice_number": started.invoice_number, "contact_id": started.contact_id,
               "issued_on": started.issued_on, "currency": started.currency, "total": money_text(note.totals.total),
               "reason": started.reason, "retain_until": note.retain_until}
        self.credit_notes.append(row)
        self.details["credit_notes"].append({
            **row, "lines": note.lines, "discount": started.discount, "prices_include_tax": started.prices_include_tax,
            "totals": started.totals,
            "buyer": started.buyer if note.retain_until is None else accounting_buyer(started.buyer),
            "seller": started.seller,
            "abandoned_because": note.abandoned_because})

    def add_quote(self, quote: Quote, now: datetime, time_zone: str) -> None:
        row = {"id": quote.id, "number": quote.number, "status": quote.status(now, time_zone),
               "contact_id": quote.contact_id, "sent_on": quote.sent_on, "valid_until": quote.valid_until,
               "currency": quote.currency, "total": money_text(quote.totals.total), "decided_on": quote.decided_on,
               "invoice_id": quote.invoice_id, "buyer_name": _buyer_name(quote.buyer)}
        self.quotes.append(row)
        self.details["quotes"].append({
            **row, "lines": quote.draft.get("lines", []), "discount": quote.draft.get("discount"),
            "prices_include_tax": quote.draft.get("prices_include_tax"), "notes": quote.draft.get("notes"),
            "legal_terms": quote.draft.get("legal_terms"), "totals": quote.totals.to_dict(), "buyer": quote.buyer,
            "seller": quote.seller, "sends": _sends(quote.sends.values(), restricted=False)})

    def add_recurring_invoice(self, recurring: RecurringInvoice) -> None:
        next_due_on = recurring.next_due_on
        row = {"id": recurring.id, "state": recurring.state, "contact_id": recurring.contact_id,
               "mode": recurring.mode, "currency": recurring.template.get("currency"),
               "next_due_on": None if next_due_on is None else next_due_on.isoformat(),
               "generated": len(recurring.generated)}
        self.recurring_invoices.append(row)
        self.details["recurring_invoices"].append({
            **row, "schedule": recurring.schedule.to_dict(), "template": recurring.template,
            "generated_invoice_ids": [recurring.generated[k] for k in sorted(recurring.generated)]})


def _sends(sends, restricted: bool) -> list[dict]:
    """A document's sends by e-mail, with the addresses and subject (not once restricted: the law keeps no mail)."""
    return [{**send.to_dict(), "to": None if restricted else list(send.to),
             "subject": None if restricted else send.subject} for send in sends]


def _buyer_name(buyer: dict) -> str | None:
    return buyer.get("name") or buyer.get("company") or None
