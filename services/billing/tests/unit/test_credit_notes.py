"""Credit notes against an issued invoice: full or partial, never below zero due, not on void invoices."""
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_platform.errors import InvalidInput

from billing.domain.credit_notes import CreditNote, CreditNoteIssued, CreditNoteIssueStarted
from billing.domain.errors import CreditExceedsAmountDue, InvoiceNotCreditable, Overpayment
from billing.domain.invoice_events import InvoiceCredited, InvoicePaid

from .fakes import SELLER
from .test_invoices import BOOKS, ISSUED_ON, draft, issued

PATTERN = "AV-{YYYY}-{SEQ:4}"


def credit_line(quantity="1", unit_price="24.99", rate="5.5"):
    return {"description": "Livre retourné", "quantity": quantity, "unit": "pièce", "unit_price": unit_price,
            "taxes": [{"category": "S", "rate": rate}]}


def test_a_full_credit_note_copies_the_invoice_and_clears_what_is_due():
    invoice = issued(discount={"kind": "percent", "value": "10"})
    note = CreditNote.start(invoice, None, "Commande annulée", ISSUED_ON, SELLER, PATTERN)
    started = note.pending[-1]
    assert isinstance(started, CreditNoteIssueStarted)
    assert (started.invoice_number, started.lines, started.discount, started.buyer) == (
        "F-2026-0001", invoice.draft["lines"], {"kind": "percent", "value": "10"}, invoice.buyer)
    assert note.totals == invoice.totals  # 1505.45, the invoice's own totals
    invoice.credit(note.id, note.totals.total, note.issued_on)
    assert invoice.amount_due == 0 and isinstance(invoice.pending[-1], InvoicePaid)
    assert invoice.status(date(2030, 1, 1)) == "paid"
    note.issue("AV-2026-0001")
    note.issue("AV-2026-0002")  # a retry changes nothing
    assert [e.number for e in note.pending if isinstance(e, CreditNoteIssued)] == ["AV-2026-0001"]


def test_a_partial_credit_note_reduces_the_amount_due():
    invoice = issued()  # 1672.73
    # 1 book at 24.99, 5.5 % VAT 1.37445 -> 1.37: 26.36
    note = CreditNote.start(invoice, [credit_line()], "Livre retourné", ISSUED_ON, SELLER, PATTERN)
    assert note.totals.total == Decimal("26.36")
    invoice.credit(note.id, note.totals.total, note.issued_on)
    invoice.credit(note.id, note.totals.total, note.issued_on)  # the same credit note again: counted once
    assert [e.amount_due for e in invoice.pending if isinstance(e, InvoiceCredited)] == ["1646.37"]
    assert invoice.amount_due == Decimal("1646.37") and invoice.status(ISSUED_ON) == "issued"


def test_a_credit_larger_than_what_is_due_is_refused_naming_the_lines():
    invoice = issued()
    invoice.record_payment(None, "1600", "2026-03-11", "card", today=ISSUED_ON)  # 72.73 left
    with pytest.raises(CreditExceedsAmountDue) as refused:
        CreditNote.start(invoice, None, "Annulation", ISSUED_ON, SELLER, PATTERN)
    assert refused.value.status == 422 and "lines" in refused.value.errors and "72.73" in refused.value.detail
    with pytest.raises(CreditExceedsAmountDue):
        invoice.credit("credit-note:x", Decimal("72.74"), ISSUED_ON)


def test_a_void_invoice_or_a_draft_cannot_be_credited():
    invoice = issued()
    invoice.void(None, "Doublon")
    with pytest.raises(InvoiceNotCreditable):
        CreditNote.start(invoice, [credit_line()], "x", ISSUED_ON, SELLER, PATTERN)
    with pytest.raises(InvoiceNotCreditable):
        CreditNote.start(draft(), None, "x", ISSUED_ON, SELLER, PATTERN)


@pytest.mark.parametrize("lines, reason, field", [
    ([], "x", "lines"), ([credit_line(unit_price="0")], "x", "lines"), ([credit_line(quantity="-1")], "x",
                                                                         "lines.0.quantity"),
    ([credit_line()], " ", "reason")])
def test_a_bad_credit_note_is_refused_naming_its_field(lines, reason, field):
    with pytest.raises(InvalidInput) as refused:
        CreditNote.start(issued(), lines, reason, ISSUED_ON, SELLER, PATTERN)
    assert field in refused.value.errors


def test_a_replayed_credit_note_is_the_same():
    invoice = issued(lines=(BOOKS,))
    note = CreditNote.start(invoice, [credit_line()], "Retour", ISSUED_ON, SELLER, PATTERN)
    note.issue("AV-2026-0001")
    replayed = CreditNote.from_history(note.id, "acct-1", note.pending)
    assert (replayed.number, replayed.invoice_id, replayed.totals) == ("AV-2026-0001", invoice.id, note.totals)


steps = st.lists(st.tuples(st.sampled_from(["pay", "credit"]),
                           st.decimals(min_value=Decimal("0.01"), max_value=Decimal("900"), places=2)), max_size=10)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_credit_notes_and_payments_never_make_the_amount_due_negative(steps):
    invoice = issued()  # 1672.73
    for kind, amount in steps:
        try:
            if kind == "pay":
                invoice.record_payment(None, str(amount), "2026-03-11", "card", today=ISSUED_ON)
            else:  # a 20 % line whose total, VAT included, is about `amount`
                net = (amount / Decimal("1.2")).quantize(Decimal("0.01"))
                note = CreditNote.start(invoice, [credit_line(unit_price=str(net), rate="20")], "Geste commercial",
                                        ISSUED_ON, SELLER, PATTERN)
                invoice.credit(note.id, note.totals.total, ISSUED_ON)
        except (Overpayment, CreditExceedsAmountDue):
            pass
        assert invoice.amount_due >= 0
    assert invoice.amount_due == invoice.totals.total - invoice.amount_paid - invoice.amount_credited
    assert (invoice.amount_due == 0) == (invoice.status(ISSUED_ON) == "paid")
