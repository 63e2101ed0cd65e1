"""Amounts at the edge: decimal strings, normalised (issue 12)."""
import pytest
from marshmallow import Schema, ValidationError

from workflows.entrypoints.schemas import DecimalText


class AmountSchema(Schema):
    value = DecimalText()


@pytest.mark.parametrize("text, stored", [("1500.50", "1500.50"), ("-0", "0"), ("-0.00", "0.00"), (" 0 ", "0")])
def test_an_amount_is_kept_as_given_but_a_negative_zero_is_zero(text, stored):
    assert AmountSchema().load({"value": text}) == {"value": stored}


@pytest.mark.parametrize("text", ["-1", "-0.01", "1e20", "NaN", "0.00001", "x"])
def test_negative_huge_or_too_precise_amounts_are_refused(text):
    with pytest.raises(ValidationError):
        AmountSchema().load({"value": text})
