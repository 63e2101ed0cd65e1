from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.payment_terms import MAX_DAYS, PaymentTerm, due_date
from crm_platform.errors import InvalidInput


@pytest.mark.parametrize("term, issued_on, due", [
    (PaymentTerm("on_receipt"), date(2026, 3, 10), date(2026, 3, 10)),
    (PaymentTerm("net", 15), date(2026, 3, 10), date(2026, 3, 25)),
    (PaymentTerm("net", 30), date(2026, 12, 15), date(2027, 1, 14)),
    (PaymentTerm("net", 60), date(2028, 1, 1), date(2028, 3, 1)),  # 2028 is a leap year: 31 + 29 days
    (PaymentTerm("end_of_month", 0), date(2026, 2, 3), date(2026, 2, 28)),
    (PaymentTerm("end_of_month", 30), date(2026, 3, 10), date(2026, 4, 30)),   # "30 jours fin de mois"
    (PaymentTerm("end_of_month", 45), date(2026, 1, 31), date(2026, 3, 17)),   # 31 Jan + 45 days
    (PaymentTerm("end_of_month", 10), date(2024, 2, 29), date(2024, 3, 10)),
    (PaymentTerm("fixed_date", on=date(2026, 6, 30)), date(2026, 3, 10), date(2026, 6, 30)),
    (PaymentTerm("fixed_date", on=date(2026, 3, 10)), date(2026, 3, 10), date(2026, 3, 10)),
])
def test_due_dates(term, issued_on, due):
    assert due_date(issued_on, term) == due


def test_a_fixed_date_at_most_365_days_after_the_issue_date():
    assert due_date(date(2026, 3, 10), PaymentTerm("fixed_date", on=date(2027, 3, 10))) == date(2027, 3, 10)
    with pytest.raises(InvalidInput) as raised:
        due_date(date(2026, 3, 10), PaymentTerm("fixed_date", on=date(2027, 3, 11)))
    assert list(raised.value.errors) == ["payment_term.on"]


def test_a_fixed_date_before_the_issue_date_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as raised:
        due_date(date(2026, 3, 10), PaymentTerm("fixed_date", on=date(2026, 3, 9)))
    assert list(raised.value.errors) == ["payment_term.on"]


@pytest.mark.parametrize("data", [
    {"kind": "on_receipt"}, {"kind": "net", "days": 30}, {"kind": "end_of_month", "days": 45},
    {"kind": "fixed_date", "on": "2026-06-30"},
])
def test_parse_reads_what_to_dict_writes(data):
    term = PaymentTerm.parse(data)
    assert term.to_dict() == data
    assert PaymentTerm.parse(term.to_dict()) == term


@pytest.mark.parametrize("data, field", [
    ([], "payment_term"), ({"kind": "net60"}, "payment_term.kind"), ({}, "payment_term.kind"),
    ({"kind": "net", "days": "30"}, "payment_term.days"), ({"kind": "net", "days": 30.0}, "payment_term.days"),
    ({"kind": "net", "days": True}, "payment_term.days"), ({"kind": "net", "days": -1}, "payment_term.days"),
    ({"kind": "net", "days": MAX_DAYS + 1}, "payment_term.days"), ({"kind": "on_receipt", "days": 3}, "payment_term.days"),
    ({"kind": "fixed_date"}, "payment_term.on"), ({"kind": "fixed_date", "on": "30/06/2026"}, "payment_term.on"),
    ({"kind": "fixed_date", "on": "2026-02-30"}, "payment_term.on"), ({"kind": "fixed_date", "on": 20260630}, "payment_term.on"),
    ({"kind": "net", "days": 30, "on": "2026-06-30"}, "payment_term.on"), ({"kind": "net", "days": 30, "x": 1}, "payment_term.x"),
])
def test_parse_refuses_bad_terms_naming_the_field(data, field):
    with pytest.raises(InvalidInput) as raised:
        PaymentTerm.parse(data)
    assert list(raised.value.errors) == [field]


def test_parse_names_the_callers_field():
    with pytest.raises(InvalidInput) as raised:
        PaymentTerm.parse({"kind": "net", "days": -5}, field="settings.default_terms")
    assert list(raised.value.errors) == ["settings.default_terms.days"]


terms = st.one_of(
    st.just(PaymentTerm("on_receipt")),
    st.builds(PaymentTerm, st.just("net"), st.integers(0, MAX_DAYS)),
    st.builds(PaymentTerm, st.just("end_of_month"), st.integers(0, MAX_DAYS)),
)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), terms)
def test_a_due_date_is_never_before_the_issue_date(issued_on, term):
    due = due_date(issued_on, term)
    assert due >= issued_on
    if term.kind == "end_of_month":
        assert (due - timedelta(days=term.days) + timedelta(days=1)).day == 1
