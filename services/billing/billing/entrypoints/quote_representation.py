"""Quotes and recurring invoices as the API shows them: from the aggregate (one document) or the read model (lists)."""
from __future__ import annotations

from datetime import date, datetime

from billing import document_views
from billing.domain import document_lines
from billing.domain.totals import compute_totals
from billing.entrypoints.representation import amount_text


def quote_from_aggregate(quote, now: datetime, time_zone: str) -> dict:
    draft = quote.draft
    return {
        "id": quote.id, "revision": quote.revision, "status": quote.status(now, time_zone), "number": quote.number,
        "contact_id": quote.contact_id, "currency": quote.currency, "lines": draft.get("lines", []),
        "prices_include_tax": draft.get("prices_include_tax", False), "discount": draft.get("discount"),
        "notes": draft.get("notes"), "legal_terms": draft.get("legal_terms"), "valid_until": quote.valid_until,
        "totals": quote.totals.to_dict(), "total": amount_text(quote.totals.total, quote.currency),
        "sent_on": quote.sent_on, "decided_on": quote.decided_on, "invoice_id": quote.invoice_id,
        "buyer": quote.buyer, "seller": quote.seller,
    }


def quote_from_view(doc: dict, today: str) -> dict:
    return {"id": doc["_id"], "revision": doc["version"], "status": document_views.quote_status(doc, today),
            "number": doc.get("number"), "contact_id": doc.get("contact_id"), "buyer_name": doc.get("buyer_name"),
            "currency": doc.get("currency"), "total": doc.get("total"), "sent_on": doc.get("sent_on"),
            "valid_until": doc.get("valid_until"), "invoice_id": doc.get("invoice_id")}


def recurring_from_aggregate(recurring, today: date) -> dict:
    template = recurring.template
    totals = compute_totals(document_lines.to_lines(template["lines"]), template["currency"],
                            prices_include_tax=template["prices_include_tax"],
                            discount=document_lines.to_discount(template.get("discount")))
    next_due_on = recurring.next_due_on
    return {
        "id": recurring.id, "revision": recurring.revision, "status": recurring.status(today),
        "contact_id": recurring.contact_id, "schedule": recurring.schedule.to_dict(), "mode": recurring.mode,
        **{name: template.get(name) for name in ("currency", "lines", "prices_include_tax", "payment_term", "notes",
                                                 "legal_terms", "discount")},
        "totals": totals.to_dict(), "next_due_on": None if next_due_on is None else next_due_on.isoformat(),
        "generated": [{"k": k, "invoice_id": invoice_id} for k, invoice_id in sorted(recurring.generated.items())],
    }


def recurring_from_view(doc: dict) -> dict:
    return {"id": doc["_id"], "revision": doc["version"], "status": document_views.recurring_status(doc),
            "contact_id": doc.get("contact_id"), "mode": doc.get("mode"), "schedule": doc.get("schedule"),
            "currency": doc.get("currency"), "next_due_on": doc.get("next_due_on"),
            "generated_count": doc.get("generated", 0)}
