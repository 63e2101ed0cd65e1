from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.money import (InvalidCurrency, minor_units, money_text, parse_currency, parse_decimal,
                                  round_money)
from crm_platform.errors import InvalidInput


@pytest.mark.parametrize("code, places", [("EUR", 2), ("eur", 2), ("JPY", 0), ("KWD", 3), ("IQD", 3),
                                          ("CLF", 4), ("XOF", 0), ("CHF", 2), ("RSD", 2)])
def test_minor_units_follow_iso_4217(code, places):
    assert minor_units(code) == places


@pytest.mark.parametrize("code", ["FRF", "XAU", "XXX", "XTS", "EU", "EURO", "", None, 978, "€"])
def test_withdrawn_metal_test_and_malformed_codes_are_invalid_currencies(code):
    with pytest.raises(InvalidCurrency) as raised:
        parse_currency(code)
    assert isinstance(raised.value, InvalidInput)
    assert list(raised.value.errors) == ["currency"]


def test_parse_currency_upper_cases_and_names_the_callers_field():
    assert parse_currency("usd") == "USD"
    with pytest.raises(InvalidCurrency) as raised:
        parse_currency("ABC", field="lines.0.currency")
    assert list(raised.value.errors) == ["lines.0.currency"]


@pytest.mark.parametrize("amount, currency, rounded", [
    ("2.675", "EUR", "2.68"), ("-2.675", "EUR", "-2.68"), ("2.665", "EUR", "2.67"), ("2.6649", "EUR", "2.66"),
    ("0.5", "JPY", "1"), ("1.0005", "KWD", "1.001"), ("10", "EUR", "10.00"),
])
def test_round_money_is_half_up_away_from_zero_to_the_minor_unit(amount, currency, rounded):
    result = round_money(Decimal(amount), currency)
    assert money_text(result) == rounded


@pytest.mark.parametrize("value, expected", [
    ("12.50", Decimal("12.5")), (" 3 ", Decimal("3")), (12, Decimal("12")), ("1e2", Decimal("100")),
    ("1.500000000", Decimal("1.5")), ("-0", Decimal("0")), (".5", Decimal("0.5")), ("0.000001", Decimal("0.000001")),
])
def test_parse_decimal_accepts_strings_and_ints(value, expected):
    assert parse_decimal(value, "amount") == expected


def test_parse_decimal_never_gives_exponent_notation():
    assert money_text(parse_decimal("1e2", "amount")) == "100"
    assert money_text(parse_decimal("1.2300", "amount")) == "1.23"


@pytest.mark.parametrize("value", [
    1.5, 0.1, True, None, [], {}, Decimal("1"), "NaN", "nan", "sNaN", "Infinity", "-inf", "1e999999", "1e-999999", "0e-999999",
    "1e99999999999999999999", "", "  ", "1_000", "1,5", "0x10", "١٢", "12 50", "1.2.3", "0.0000001",
    "1234567890123456789", 10**18, "9" * 70,
])
def test_parse_decimal_refuses_floats_specials_exponent_abuse_and_too_many_digits(value):
    with pytest.raises(InvalidInput) as raised:
        parse_decimal(value, "unit_price")
    assert list(raised.value.errors) == ["unit_price"]


def test_parse_decimal_limits_are_the_callers():
    assert parse_decimal("123.45", "quantity", max_digits=5, max_places=2) == Decimal("123.45")
    with pytest.raises(InvalidInput):
        parse_decimal("123.456", "quantity", max_digits=6, max_places=2)
    with pytest.raises(InvalidInput):
        parse_decimal("1234.5", "quantity", max_digits=4)
    with pytest.raises(InvalidInput) as raised:
        parse_decimal("-1", "amount", minimum=0)
    assert raised.value.errors == {"amount": ["must be at least 0"]}


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=Decimal("-1e11"),
                   max_value=Decimal("1e11")))
def test_parse_decimal_reads_back_what_money_text_writes(number):
    assert parse_decimal(money_text(number), "amount") == number


@given(st.text(max_size=40))
def test_parse_decimal_only_ever_raises_invalid_input(text):
    try:
        number = parse_decimal(text, "amount")
    except InvalidInput:
        return
    assert number.is_finite() and len(money_text(number).lstrip("-").replace(".", "")) <= 19
