"""The read model says the same status as the aggregate, and its status filters select exactly that status."""
from datetime import date, datetime, timezone

import pytest

from billing.adapters.documents_projection import invoice_fields
from billing.domain.invoices import Invoice
from billing.views import INVOICE_STATUSES, status_filter, invoice_status

from .fakes import SELLER

LINE = {"description": "Audit", "quantity": "1", "unit": "jour", "unit_price": "100", "taxes": [{"category": "S", "rate": "20"}]}
ISSUED_ON = date(2026, 3, 2)  # due 30 days later: 2026-04-01


def invoice_in(state: str) -> Invoice:
    invoice = Invoice.draft_new("acct-1", "contact:1", {"currency": "EUR", "lines": [LINE],
                                                        "payment_term": {"kind": "net", "days": 30}})
    if state == "draft":
        return invoice
    invoice.start_issue(None, ISSUED_ON, "contact:1", {"name": "Louise"}, SELLER, "F-{YYYY}-{SEQ:4}")
    if state == "issuing":
        return invoice
    invoice.issue("F-2026-0001")
    if state in ("partly_paid", "paid"):
        invoice.record_payment(None, "20" if state == "partly_paid" else "120", "2026-03-05", "card", today=date(2026, 3, 5))
    if state == "void":
        invoice.void(None, "erreur")
    if state == "credited":
        invoice.credit("credit-note:1", invoice.totals, date(2026, 3, 5), invoice.draft["lines"])
    return invoice


def matches(condition: dict, doc: dict) -> bool:
    """The few MongoDB operators status_filter uses, on one document."""
    for name, wanted in condition.items():
        value = doc.get(name)
        if isinstance(wanted, dict):
            if "$lt" in wanted and not value < wanted["$lt"] or "$gte" in wanted and not value >= wanted["$gte"]:
                return False
        elif value != wanted:
            return False
    return True


@pytest.mark.parametrize("state", ["draft", "issuing", "issued", "partly_paid", "paid", "credited", "void"])
@pytest.mark.parametrize("today", [date(2026, 3, 10), date(2026, 4, 1), date(2026, 4, 2)])
def test_the_read_model_and_the_aggregate_agree_on_the_status_and_one_filter_selects_it(state, today):
    invoice = invoice_in(state)
    doc = {**invoice_fields(invoice), "created_at": datetime.now(timezone.utc)}
    status = invoice_status(doc, today.isoformat())
    assert status == invoice.status(today)
    assert [s for s in INVOICE_STATUSES if matches(status_filter(s, today.isoformat()), doc)] == [status]
