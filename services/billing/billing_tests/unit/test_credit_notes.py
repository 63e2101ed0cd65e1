"""Credit notes against an issued invoice: full or partial, never below zero due, not on void invoices."""
import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_platform.errors import InvalidInput

from billing.domain.credit_notes import CreditNote, CreditNoteIssued, CreditNoteIssueStarted
from billing.domain.errors import CreditExceedsAmountDue, CreditExceedsInvoiced, InvoiceNotCreditable, Overpayment
from billing.domain.invoice_events import InvoiceCredited, InvoicePaid, InvoicePaymentRecorded
from billing.domain.invoices import Invoice

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
    assert (started.invoice_number, note.lines, started.discount, started.buyer) == (
        "F-2026-0001", invoice.draft["lines"], {"kind": "percent", "value": "10"}, invoice.buyer)
    assert note.totals == invoice.totals  # 1505.45, the invoice's own totals
    invoice.credit(note.id, note.totals, note.issued_on, note.lines)
    # nothing was paid: the invoice is credited, not paid (no InvoicePaid)
    assert invoice.amount_due == 0 and isinstance(invoice.pending[-1], InvoiceCredited)
    assert not any(isinstance(event, InvoicePaid) for event in invoice.pending)
    assert invoice.status(date(2030, 1, 1)) == "credited"
    note.issue("AV-2026-0001")
    note.issue("AV-2026-0002")  # a retry changes nothing
    assert [e.number for e in note.pending if isinstance(e, CreditNoteIssued)] == ["AV-2026-0001"]


def test_a_partial_credit_note_reduces_the_amount_due():
    invoice = issued()  # 1672.73
    # 1 book at 24.99, 5.5 % VAT 1.37445 -> 1.37: 26.36
    note = CreditNote.start(invoice, [credit_line()], "Livre retourné", ISSUED_ON, SELLER, PATTERN)
    assert note.totals.total == Decimal("26.36")
    invoice.credit(note.id, note.totals, note.issued_on, note.lines)
    invoice.credit(note.id, note.totals, note.issued_on, note.lines)  # the same credit note again: counted once
    assert [e.amount_due for e in invoice.pending if isinstance(e, InvoiceCredited)] == ["1646.37"]
    assert invoice.amount_due == Decimal("1646.37") and invoice.status(ISSUED_ON) == "issued"


def test_a_credit_larger_than_what_is_due_is_refused_naming_the_lines():
    invoice = issued()
    invoice.record_payment(None, "1600", "2026-03-11", "card", today=ISSUED_ON)  # 72.73 left
    with pytest.raises(CreditExceedsAmountDue) as refused:
        CreditNote.start(invoice, None, "Annulation", ISSUED_ON, SELLER, PATTERN)
    assert refused.value.status == 422 and "lines" in refused.value.errors and "72.73" in refused.value.detail
    too_much = CreditNote.start(issued(), [credit_line(unit_price="60.62", rate="20")], "x", ISSUED_ON, SELLER,
                                PATTERN)
    assert too_much.totals.total == Decimal("72.73") + Decimal("0.01")
    with pytest.raises(CreditExceedsAmountDue):
        invoice.credit("credit-note:x", too_much.totals, ISSUED_ON, too_much.lines)


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
                invoice.credit(note.id, note.totals, ISSUED_ON, note.lines)
        except (Overpayment, CreditExceedsAmountDue, CreditExceedsInvoiced):
            pass
        assert invoice.amount_due >= 0
        assert all(left >= 0 for left in invoice.base_left_to_credit().values())
    assert invoice.amount_due == invoice.totals.total - invoice.amount_paid - invoice.amount_credited
    assert (invoice.amount_due == 0) == (invoice.status(ISSUED_ON) in ("paid", "credited"))
    assert (invoice.status(ISSUED_ON) == "paid") == (invoice.amount_due == 0 and bool(invoice.payments))


def test_a_partial_credit_note_takes_the_invoices_document_discount_and_no_more_than_was_invoiced():
    # 2 books x 24.99 = 49.98, 50 % off the document: base 24.99, VAT 5.5 % 1.37445 -> 1.37, total 26.36.
    invoice = issued(lines=(BOOKS,), discount={"kind": "percent", "value": "50"})
    assert invoice.totals.total == Decimal("26.36")
    # 1 book: 24.99 - 50 % (12.495 -> 12.50) = base 12.49, VAT 0.68695 -> 0.69: 13.18, not 26.36
    first = CreditNote.start(invoice, [credit_line()], "Livre retourné", ISSUED_ON, SELLER, PATTERN)
    assert (first.totals.total, first.started.discount) == (Decimal("13.18"), {"kind": "percent", "value": "50"})
    invoice.credit(first.id, first.totals, ISSUED_ON, first.lines)
    second = CreditNote.start(invoice, [credit_line()], "Livre retourné", ISSUED_ON, SELLER, PATTERN)
    invoice.credit(second.id, second.totals, ISSUED_ON, second.lines)
    assert invoice.amount_due == Decimal("26.36") - 2 * Decimal("13.18")
    with pytest.raises(CreditExceedsInvoiced) as refused:  # a third book was never invoiced: 0.01 of base is left
        CreditNote.start(invoice, [credit_line(unit_price="1")], "x", ISSUED_ON, SELLER, PATTERN)
    assert refused.value.status == 422 and list(refused.value.errors) == ["lines.0"]


def test_an_amount_discount_is_credited_in_proportion_to_the_lines_credited():
    # 49.98 - 10.00 = base 39.98, VAT 2.1989 -> 2.20, total 42.18; one book is half of it: 5.00 off its 24.99,
    # base 19.99, VAT 1.09945 -> 1.10, 21.09
    invoice = issued(lines=(BOOKS,), discount={"kind": "amount", "value": "10.00"})
    note = CreditNote.start(invoice, [credit_line()], "Retour", ISSUED_ON, SELLER, PATTERN)
    assert (note.totals.total, note.started.discount) == (Decimal("21.09"), {"kind": "amount", "value": "5.00"})


def test_a_credit_at_a_tax_the_invoice_does_not_have_is_refused_naming_its_line():
    invoice = issued(lines=(BOOKS,))  # 5.5 % only
    with pytest.raises(CreditExceedsInvoiced) as refused:
        CreditNote.start(invoice, [credit_line(), credit_line(rate="20")], "x", ISSUED_ON, SELLER, PATTERN)
    assert list(refused.value.errors) == ["lines.1"] and "S 20 %" in refused.value.detail
    with pytest.raises(CreditExceedsInvoiced) as refused:  # 3 books: more than the 2 invoiced
        CreditNote.start(invoice, [credit_line(quantity="3")], "x", ISSUED_ON, SELLER, PATTERN)
    assert list(refused.value.errors) == ["lines.0"]
    book = CreditNote.start(invoice, [credit_line()], "x", ISSUED_ON, SELLER, PATTERN)
    invoice.credit(book.id, book.totals, ISSUED_ON, book.lines)
    with pytest.raises(CreditExceedsInvoiced) as refused:  # all of it, once a book was credited: no line to name
        CreditNote.start(invoice, None, "x", ISSUED_ON, SELLER, PATTERN)
    assert list(refused.value.errors) == ["lines"]


def test_payments_then_a_credit_note_of_the_rest_is_paid():
    invoice = issued(lines=(BOOKS,))  # 52.73
    invoice.record_payment(None, "26.37", "2026-03-11", "card", today=ISSUED_ON)
    note = CreditNote.start(invoice, [credit_line()], "Livre retourné", ISSUED_ON, SELLER, PATTERN)  # 26.36
    invoice.credit(note.id, note.totals, date(2026, 3, 20), note.lines)
    assert invoice.amount_due == 0 and invoice.status(ISSUED_ON) == "paid"
    assert [e.paid_on for e in invoice.pending if isinstance(e, InvoicePaid)] == ["2026-03-11"]


def test_each_line_credited_apart_under_a_document_discount_credits_the_whole_invoice_not_a_cent_more():
    # 3 x 24.92 = 74.76, 10 % off: 7.476 -> 7.48, base 67.28. One book: 24.92 - 2.49 (2.492) = 22.43, and
    # 3 x 22.43 = 67.29: the per-line roundings give a cent more than the invoice's base. The last book
    # is credited all the same, its base taken as what is left (22.42), and nothing more can be credited.
    invoice = issued(lines=({**BOOKS, "quantity": "3", "unit_price": "24.92"},),
                     discount={"kind": "percent", "value": "10"})
    for _ in range(3):
        note = CreditNote.start(invoice, [credit_line(unit_price="24.92")], "Retour", ISSUED_ON, SELLER, PATTERN)
        invoice.credit(note.id, note.totals, ISSUED_ON, note.lines)
    assert invoice.base_left_to_credit() == {("S", Decimal("5.5")): Decimal(0)}
    assert invoice.amount_due == invoice.totals.total - invoice.amount_credited >= 0
    with pytest.raises(CreditExceedsInvoiced):
        CreditNote.start(invoice, [credit_line(unit_price="0.01")], "x", ISSUED_ON, SELLER, PATTERN)


def test_a_credit_note_that_settles_an_invoice_dates_it_paid_the_day_of_its_last_payment_even_one_typed_as_a_week():
    """Older code kept a payment's date as typed: "2026-W11-3" (11 March) sorts after "2026-03-20" as text."""
    invoice = issued()  # 1672.73
    invoice.record_payment(None, "100", "2026-03-11", "cash", payment_id="payment:p1", today=ISSUED_ON)
    history = [dataclasses.replace(event, paid_on="2026-W11-3") if isinstance(event, InvoicePaymentRecorded)
               else event for event in invoice.pending]
    invoice = Invoice.from_history(invoice.id, "acct-1", history)
    invoice.record_payment(None, "1546.37", "2026-03-20", "card", payment_id="payment:p2", today=date(2026, 3, 20))
    note = CreditNote.start(invoice, [credit_line()], "Livre retourné", ISSUED_ON, SELLER, PATTERN)  # 26.36
    invoice.credit(note.id, note.totals, note.issued_on, note.lines)
    assert invoice.amount_due == 0
    assert [e.paid_on for e in invoice.pending if isinstance(e, InvoicePaid)] == ["2026-03-20"]
