"""The Invoice aggregate: drafts, issuing, payments, void, and its derived status (no I/O)."""
import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_platform.errors import InvalidInput

from billing.domain.errors import (InvoiceNotEditable, InvoiceNotPayable, InvoiceNotVoidable, Overpayment,
                                   PaymentNotFound, StaleInvoiceRevision)
from billing.domain.invoice_events import (InvoiceDraftUpdated, InvoiceIssued, InvoiceIssueStarted, InvoicePaid,
                                           InvoicePaymentRecorded, InvoicePaymentRemoved)
from billing.domain.invoices import Invoice

from .fakes import SELLER

BUYER = {"name": "Louise Martin", "company": "Atelier Martin", "vat_number": "FR40303265045",
         "address": {"street": "3 place Bellecour", "postal_code": "69002", "city": "Lyon", "country": "FR"},
         "emails": ["louise@atelier-martin.fr"]}
WEB_DAYS = {"description": "Développement du site", "quantity": "3", "unit": "jour", "unit_price": "450.00",
            "taxes": [{"category": "S", "rate": "20"}]}
BOOKS = {"description": "Livre « Le Web »", "quantity": "2", "unit": "pièce", "unit_price": "24.99",
         "taxes": [{"category": "S", "rate": "5.5"}]}
ISSUED_ON = date(2026, 3, 11)


def draft(lines=(WEB_DAYS, BOOKS), discount=None, **content) -> Invoice:
    return Invoice.draft_new("acct-1", "contact:1", {"currency": "EUR", "lines": list(lines), "discount": discount,
                                                     "payment_term": {"kind": "net", "days": 30}, **content})


def issued(lines=(WEB_DAYS, BOOKS), discount=None) -> Invoice:
    invoice = draft(lines, discount)
    invoice.start_issue(None, ISSUED_ON, "contact:1", BUYER, SELLER, "F-{YYYY}-{SEQ:4}")
    invoice.issue("F-2026-0001")
    return invoice


def test_the_french_invoice_worked_out_by_hand():
    # Line 1: 3 days x 450.00 at 20 %       net 1350.00
    # Line 2: 2 books x 24.99 at 5.5 %      net   49.98          net total 1399.98
    # Document discount 10 %, per VAT rate: 135.00 off the 20 % base, 4.998 -> 5.00 off the 5.5 % base
    #   20 % base 1215.00, VAT 243.00
    #   5.5 % base  44.98, VAT 2.4739 -> 2.47                     VAT 245.47
    # Total 1399.98 - 140.00 + 245.47 = 1505.45, due 30 days after 11 March 2026: 10 April 2026.
    invoice = issued(discount={"kind": "percent", "value": "10"})
    totals = invoice.totals
    assert (totals.net_total, totals.discount_total, totals.tax_total, totals.total) == (
        Decimal("1399.98"), Decimal("140.00"), Decimal("245.47"), Decimal("1505.45"))
    assert [(row.rate, row.base, row.amount) for row in totals.tax_breakdown] == [
        (Decimal("5.5"), Decimal("44.98"), Decimal("2.47")), (Decimal("20"), Decimal("1215.00"), Decimal("243.00"))]
    assert (invoice.number, invoice.issued_on, invoice.due_on) == ("F-2026-0001", "2026-03-11", "2026-04-10")
    # A partial payment of 500.00 leaves 1005.45 due.
    invoice.record_payment(None, "500.00", "2026-03-20", "bank_transfer", "VIR 0320", today=date(2026, 3, 20))
    assert invoice.amount_due == Decimal("1005.45") and invoice.status(date(2026, 3, 20)) == "partially_paid"
    assert invoice.status(date(2026, 4, 11)) == "overdue"  # the day after the due date, still 1005.45 due


def test_a_draft_is_edited_and_deleted_then_gone():
    invoice = draft()
    invoice.update_draft(1, {"notes": "Merci pour votre confiance"})
    assert isinstance(invoice.pending[-1], InvoiceDraftUpdated)
    assert invoice.draft["notes"] == "Merci pour votre confiance"
    invoice.update_draft(2, {"notes": "Merci pour votre confiance"})  # no change, no event
    assert invoice.revision == 2
    with pytest.raises(StaleInvoiceRevision):
        invoice.update_draft(1, {"notes": "x"})
    invoice.delete_draft(2)
    assert invoice.gone


@pytest.mark.parametrize("content, field", [
    ({"lines": [{**WEB_DAYS, "unit_price": 450.0}]}, "lines.0.unit_price"),  # floats refused
    ({"lines": [{**WEB_DAYS, "quantity": "0"}]}, "lines.0.quantity"),
    ({"lines": [{**WEB_DAYS, "quantity": "1234567890123"}]}, "lines.0.quantity"),  # beyond exact arithmetic
    ({"lines": [{**WEB_DAYS, "unit_price": "1234567890.123"}]}, "lines.0.unit_price"),
    ({"lines": [{**WEB_DAYS, "taxes": [{"category": "S", "rate": "0"}]}]}, "lines.0.taxes.0.rate"),
    ({"lines": [{**WEB_DAYS, "taxes": [{"category": "X", "rate": "20"}]}]}, "lines.0.taxes.0.category"),
    ({"lines": [{**WEB_DAYS, "description": " "}]}, "lines.0.description"),
    # two VATs on one line would give it two taxable bases (EN 16931: one VAT category and rate per line)
    ({"lines": [BOOKS, {**WEB_DAYS, "taxes": [{"category": "S", "rate": "20"}, {"category": "S", "rate": "5.5"}]}]},
     "lines.1.taxes"),
    ({"lines": [{**WEB_DAYS, "taxes": [{"category": "S", "rate": "20"}, {"category": "O", "rate": "0"}]}]},
     "lines.0.taxes"),
    ({"lines": [{**WEB_DAYS, "colour": "red"}]}, "lines.0.colour"),
    ({"lines": [{**WEB_DAYS, "discount": {"kind": "percent", "value": "101"}}]}, "lines.0.discount.value"),
    ({"currency": "EURO"}, "currency"),
    ({"discount": {"kind": "amount", "value": "5000"}}, "discount.value"),  # more than the lines
    ({"payment_term": {"kind": "net", "days": -1}}, "payment_term.days"),
    ({"notes": "a\x00b"}, "notes"),
    ({"prices_include_tax": "yes"}, "prices_include_tax"),
    ({"period": {"start": "2026-02-01", "end": "2026-01-31"}}, "period.end"),  # ends before it starts
    ({"period": {"start": "2026-02-30", "end": "2026-03-31"}}, "period.start"),
    ({"period": {"start": "2026-01-01"}}, "period.end"),
    ({"period": {"start": "2026-01-01", "end": 20260131}}, "period.end"),
    ({"period": {"start": "2026-01-01", "end": "2026-01-31", "days": 31}}, "period.days"),
    ({"period": "2026-01"}, "period"),
    ({"period": {"start": "2026-W01-1", "end": "2026-01-31"}}, "period.start"),  # an ISO week date: not YYYY-MM-DD
    ({"period": {"start": "0999-12-01", "end": "2026-01-31"}}, "period.start"),  # would print "9991201" in Factur-X
    ({"period": {"start": "2026-01-01", "end": "2026-01-\u0663\u0661"}}, "period.end"),  # Arabic-Indic digits
])
def test_a_bad_draft_value_is_refused_naming_its_field(content, field):
    with pytest.raises(InvalidInput) as refused:
        draft(**{"lines": (WEB_DAYS, BOOKS), **content})
    assert field in refused.value.errors


def test_issuing_freezes_the_draft_and_happens_once():
    invoice = draft()
    invoice.start_issue(1, ISSUED_ON, "contact:1", BUYER, SELLER, "F-{YYYY}-{SEQ:4}")
    started = invoice.pending[-1]
    assert isinstance(started, InvoiceIssueStarted) and started.fiscal_year == 2026 and started.buyer == BUYER
    with pytest.raises(InvoiceNotEditable):
        invoice.update_draft(None, {"notes": "x"})
    with pytest.raises(InvoiceNotEditable):
        invoice.delete_draft(None)
    invoice.start_issue(None, date(2027, 1, 2), "contact:1", BUYER, SELLER, "X-{YY}-{SEQ}")  # a retry: unchanged
    invoice.issue("F-2026-0007")
    invoice.issue("F-2026-0008")  # a retry: unchanged
    issued_events = [event for event in invoice.pending if isinstance(event, InvoiceIssued)]
    assert [(e.number, e.total, e.issued_on) for e in issued_events] == [("F-2026-0007", "1672.73", "2026-03-11")]


def test_an_invoicing_period_is_edited_on_the_draft_and_frozen_at_issue():
    invoice = draft(period={"start": "2026-01-01", "end": "2026-01-31"})
    assert invoice.draft["period"] == {"start": "2026-01-01", "end": "2026-01-31"}
    invoice.update_draft(None, {"period": {"start": "2026-02-01", "end": "2026-02-28"}})
    assert invoice.pending[-1].period == {"start": "2026-02-01", "end": "2026-02-28"}
    invoice.update_draft(None, {"notes": "Février"})  # another field changed: the period stays
    assert invoice.draft["period"] == {"start": "2026-02-01", "end": "2026-02-28"}
    with pytest.raises(InvalidInput) as refused:
        invoice.update_draft(None, {"period": {"start": "2026-02-01", "end": "2026-01-31"}})
    assert list(refused.value.errors) == ["period.end"]
    invoice.start_issue(None, ISSUED_ON, "contact:1", BUYER, SELLER, "F-{YYYY}-{SEQ:4}")
    invoice.issue("F-2026-0001")
    with pytest.raises(InvoiceNotEditable):
        invoice.update_draft(None, {"period": {"start": "2026-03-01", "end": "2026-03-31"}})
    replayed = Invoice.from_history(invoice.id, "acct-1", invoice.pending)
    assert replayed.draft["period"] == {"start": "2026-02-01", "end": "2026-02-28"}


def test_a_draft_without_a_period_has_none_and_one_is_removed_with_null():
    invoice = draft()
    assert invoice.draft["period"] is None
    invoice.update_draft(None, {"period": {"start": "2026-01-01", "end": "2026-01-01"}})  # one day
    invoice.update_draft(None, {"period": None})
    assert invoice.draft["period"] is None and invoice.revision == 3


def test_a_fixed_due_date_more_than_a_year_after_the_issue_date_is_refused_at_issue_naming_it():
    invoice = draft(payment_term={"kind": "fixed_date", "on": "2062-03-11"})  # 2026, mistyped
    with pytest.raises(InvalidInput) as refused:
        invoice.start_issue(None, ISSUED_ON, "contact:1", BUYER, SELLER, "F-{YYYY}-{SEQ:4}")
    assert list(refused.value.errors) == ["payment_term.on"] and invoice.stage == "draft"


def test_a_fixed_due_date_before_the_issue_date_is_refused_at_issue_naming_it():
    invoice = draft(payment_term={"kind": "fixed_date", "on": "2026-03-10"})
    with pytest.raises(InvalidInput) as refused:
        invoice.start_issue(None, ISSUED_ON, "contact:1", BUYER, SELLER, "F-{YYYY}-{SEQ:4}")
    assert list(refused.value.errors) == ["payment_term.on"] and invoice.stage == "draft"


def test_an_invoice_without_lines_is_not_issued():
    with pytest.raises(InvalidInput) as refused:
        draft(lines=()).start_issue(None, ISSUED_ON, "contact:1", BUYER, SELLER, "F-{YYYY}-{SEQ:4}")
    assert "lines" in refused.value.errors


def test_an_overpayment_is_refused_naming_the_amount():
    invoice = issued()  # 1350.00 + 270.00 VAT + 49.98 + 2.75 VAT = 1672.73 due
    with pytest.raises(Overpayment) as refused:
        invoice.record_payment(None, "1672.74", "2026-03-12", "card", today=ISSUED_ON.replace(day=12))
    assert refused.value.status == 422 and "amount" in refused.value.errors and "refused" in refused.value.detail
    assert not invoice.payments


@pytest.mark.parametrize("amount, paid_on, method, field", [
    ("0", "2026-03-11", "card", "amount"), ("-5", "2026-03-11", "card", "amount"),
    ("10.001", "2026-03-11", "card", "amount"), (10.5, "2026-03-11", "card", "amount"),
    ("10", "2026-03-12", "card", "paid_on"),  # tomorrow
    ("10", "2026-03-10", "card", "paid_on"),  # the day before the invoice was issued
    ("10", "11/03/2026", "card", "paid_on"), ("10", "2026-03-11", "bitcoin", "method"),
])
def test_a_bad_payment_is_refused_naming_its_field(amount, paid_on, method, field):
    with pytest.raises(InvalidInput) as refused:
        issued().record_payment(None, amount, paid_on, method, today=ISSUED_ON)
    assert field in refused.value.errors


def test_payments_add_up_to_paid_and_removing_one_reopens_it():
    invoice = issued()
    first = invoice.record_payment(None, "1000", "2026-03-11", "bank_transfer", today=ISSUED_ON)
    invoice.record_payment(None, "672.73", "2026-03-11", "check", "Chèque 1234567", today=ISSUED_ON)
    assert isinstance(invoice.pending[-1], InvoicePaid) and invoice.status(date(2030, 1, 1)) == "paid"
    with pytest.raises(PaymentNotFound):
        invoice.remove_payment(None, "payment:nope", "erreur")
    with pytest.raises(InvalidInput) as refused:
        invoice.remove_payment(None, first.payment_id, "  ")
    assert "reason" in refused.value.errors
    invoice.remove_payment(None, first.payment_id, "Virement rejeté par la banque")
    removed = invoice.pending[-1]
    assert isinstance(removed, InvoicePaymentRemoved) and removed.amount_due == "1000.00"
    assert invoice.status(ISSUED_ON) == "partially_paid" and invoice.amount_due == Decimal("1000.00")


def test_a_payment_sent_again_with_its_id_is_recorded_once():
    invoice = issued()
    invoice.record_payment(None, "100", "2026-03-11", "cash", payment_id="payment:p1", today=ISSUED_ON)
    invoice.record_payment(None, "100", "2026-03-11", "cash", payment_id="payment:p1", today=ISSUED_ON)
    assert len([e for e in invoice.pending if isinstance(e, InvoicePaymentRecorded)]) == 1
    with pytest.raises(InvalidInput):
        invoice.record_payment(None, "200", "2026-03-11", "cash", payment_id="payment:p1", today=ISSUED_ON)


def test_a_payment_date_is_written_yyyy_mm_dd_not_as_a_week_date_python_also_reads():
    """"2026-W11-3" is the issue date, 11 March 2026, to Python: it was stored as typed, and compared as text."""
    invoice = issued()
    with pytest.raises(InvalidInput) as refused:
        invoice.record_payment(None, "10", "2026-W11-3", "card", today=ISSUED_ON)
    assert list(refused.value.errors) == ["paid_on"] and not invoice.payments


def test_a_payment_stored_with_a_week_date_by_older_code_still_loads_and_its_retry_is_that_payment():
    invoice = issued()
    invoice.record_payment(None, "100", "2026-03-11", "cash", payment_id="payment:p1", today=ISSUED_ON)
    *before, recorded = invoice.pending
    stored = dataclasses.replace(recorded, paid_on="2026-W11-3")  # as typed, as older code kept it
    loaded = Invoice.from_history(invoice.id, "acct-1", [*before, stored])
    assert loaded.payments["payment:p1"].paid_on == "2026-W11-3" and loaded.amount_due == invoice.amount_due
    for paid_on in ("2026-W11-3", "2026-03-11"):  # the retry as first sent, or as the day it is
        loaded.record_payment(None, "100", paid_on, "cash", payment_id="payment:p1", today=ISSUED_ON)
    assert not loaded.pending
    with pytest.raises(InvalidInput) as refused:  # another day with its id: another payment
        loaded.record_payment(None, "100", "2026-03-12", "cash", payment_id="payment:p1", today=date(2026, 3, 12))
    assert list(refused.value.errors) == ["payment_id"]


def test_drafts_and_void_invoices_take_no_payment():
    with pytest.raises(InvoiceNotPayable):
        draft().record_payment(None, "10", "2026-03-11", "cash", today=ISSUED_ON)
    invoice = issued()
    invoice.void(None, "Erreur de client")
    assert invoice.status(ISSUED_ON) == "void"
    with pytest.raises(InvoiceNotPayable):
        invoice.record_payment(None, "10", "2026-03-11", "cash", today=ISSUED_ON)


def test_only_an_issued_invoice_with_nothing_paid_is_voided():
    with pytest.raises(InvoiceNotVoidable):
        draft().void(None, "x")
    invoice = issued()
    invoice.record_payment(None, "10", "2026-03-11", "cash", today=ISSUED_ON)
    with pytest.raises(InvoiceNotVoidable):
        invoice.void(None, "x")


@pytest.mark.parametrize("today, expected", [
    (date(2026, 3, 11), "issued"), (date(2026, 4, 10), "issued"), (date(2026, 4, 11), "overdue")])
def test_an_unpaid_invoice_is_overdue_the_day_after_its_due_date(today, expected):
    assert issued().status(today) == expected


def test_a_replayed_invoice_is_the_same_invoice():
    invoice = issued(discount={"kind": "amount", "value": "99.98"})
    invoice.record_payment(None, "12.34", "2026-03-11", "card", today=ISSUED_ON)
    replayed = Invoice.from_history(invoice.id, "acct-1", invoice.pending)
    assert (replayed.number, replayed.amount_due, replayed.totals, replayed.buyer, replayed.draft) == (
        invoice.number, invoice.amount_due, invoice.totals, invoice.buyer, invoice.draft)


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2)


@settings(max_examples=200, deadline=None)
@given(st.lists(amounts, max_size=12))
def test_payments_never_exceed_the_total(payments):
    invoice, accepted = issued(), []
    for amount in payments:
        try:
            invoice.record_payment(None, str(amount), "2026-03-11", "card", today=ISSUED_ON)
            accepted.append(amount)
        except Overpayment:
            assert amount > invoice.amount_due
    assert Decimal(0) <= invoice.amount_due and invoice.amount_paid <= invoice.totals.total
    assert invoice.amount_paid == sum(accepted, Decimal(0))
