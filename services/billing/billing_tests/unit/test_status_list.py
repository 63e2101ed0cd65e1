"""The `?status=` list of invoices and quotes: its OpenAPI pattern says what the field accepts."""
import re

import pytest
from marshmallow import ValidationError

from billing.entrypoints.invoice_schemas import StatusList


def test_the_pattern_takes_each_status_as_it_is_written():
    """A status is text, not a regular expression: `a.b` does not admit `axb`."""
    field = StatusList(("a.b", "c+"))
    pattern = re.compile(field.metadata["pattern"])
    assert pattern.match("a.b, c+") and field.deserialize("a.b, c+") == ["a.b", "c+"]
    assert pattern.match("axb") is None and pattern.match("cc") is None
    with pytest.raises(ValidationError):
        field.deserialize("axb")
