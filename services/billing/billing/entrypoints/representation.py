"""Invoices and credit notes as the API shows them: from the aggregate (one document) or the read model (lists)."""
from __future__ import annotations

from datetime import date

from billing import views
from billing.domain.money import money_text, round_money
from billing.domain.retention import accounting_buyer


def amount_text(amount, currency: str) -> str:
    """An amount as the API shows it: to the currency's minor unit ("10.00", never "10")."""
    return money_text(round_money(amount, currency)) if currency else money_text(amount)


def invoice_from_aggregate(invoice, today: str) -> dict:
    """The invoice whole; once its processing is restricted (its person's erasure, domain/retention.py), without
    what the accounting record does not need: the buyer's emails, the notes, the payments' references."""
    draft, restricted = invoice.draft, invoice.retain_until is not None
    return {
        "id": invoice.id, "revision": invoice.revision, "status": invoice.status(date.fromisoformat(today)),
        "number": invoice.number, "contact_id": invoice.contact_id, "currency": invoice.currency,
        "lines": draft.get("lines", []), "prices_include_tax": draft.get("prices_include_tax", False),
        "discount": draft.get("discount"), "period": draft.get("period"), "payment_term": draft.get("payment_term"),
        "notes": None if restricted else draft.get("notes"), "legal_terms": draft.get("legal_terms"),
        "totals": invoice.totals.to_dict(), "amount_paid": amount_text(invoice.amount_paid, invoice.currency),
        "amount_credited": amount_text(invoice.amount_credited, invoice.currency),
        "amount_due": amount_text(invoice.amount_due, invoice.currency),
        "issued_on": invoice.issued_on, "due_on": invoice.due_on, "paid_on": invoice.paid_on,
        "payments": [{"id": p.payment_id, "amount": amount_text(p.amount, invoice.currency), "paid_on": p.paid_on, "method": p.method,
                      "reference": None if restricted else p.reference} for p in invoice.payments.values()],
        "credits": [{"credit_note_id": note_id, "amount": amount_text(amount, invoice.currency)} for note_id, amount in invoice.credits.items()],
        "buyer": accounting_buyer(invoice.buyer) if restricted else invoice.buyer, "seller": invoice.seller,
        "processing_restricted_until": invoice.retain_until,
    }


def invoice_from_view(doc: dict, today: str) -> dict:
    return {"id": doc["_id"], "revision": doc["version"], "status": views.invoice_status(doc, today),
            "number": doc.get("number"), "contact_id": doc.get("contact_id"), "buyer_name": doc.get("buyer_name"),
            "currency": doc.get("currency"), "total": doc.get("total"), "amount_due": doc.get("amount_due"),
            "issued_on": doc.get("issued_on"), "due_on": doc.get("due_on")}


def credit_note_from_aggregate(note) -> dict:
    """The credit note whole; once restricted, its buyer without what the accounting record does not need."""
    started = note.started
    buyer = started.buyer if note.retain_until is None else accounting_buyer(started.buyer)
    return {"id": note.id, "revision": note.revision, "status": note.status, "number": note.number,
            "invoice_id": started.invoice_id,
            "invoice_number": started.invoice_number, "contact_id": started.contact_id, "currency": started.currency,
            "lines": note.lines, "totals": note.totals.to_dict(), "total": amount_text(note.totals.total, started.currency),
            "issued_on": started.issued_on, "reason": started.reason, "buyer": buyer, "seller": started.seller,
            "processing_restricted_until": note.retain_until}


def credit_note_from_view(doc: dict) -> dict:
    return {"id": doc["_id"], "revision": doc["version"], "status": doc.get("status"), "number": doc.get("number"),
            "invoice_id": doc.get("invoice_id"), "invoice_number": doc.get("invoice_number"),
            "contact_id": doc.get("contact_id"), "currency": doc.get("currency"), "total": doc.get("total"),
            "issued_on": doc.get("issued_on")}
