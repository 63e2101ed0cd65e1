"""The `as_of`-style query field: RFC 3339 date-times with an offset only, everything else refused naming the field."""
from datetime import datetime, timezone

import pytest
from marshmallow import ValidationError

from crm_platform.http_schemas import Rfc3339DateTime, StrictSchema


class MomentQuery(StrictSchema):
    as_of = Rfc3339DateTime(load_default=None)


@pytest.mark.parametrize("text, moment", [
    ("2026-01-31T09:30:00Z", datetime(2026, 1, 31, 9, 30, tzinfo=timezone.utc)),
    ("2026-01-31t09:30:00.123456789+02:00", datetime(2026, 1, 31, 7, 30, 0, 123456, tzinfo=timezone.utc)),
    ("2026-01-31 09:30:00-05:30", datetime(2026, 1, 31, 15, 0, tzinfo=timezone.utc)),
    ("0001-01-01T00:00:00+01:00", datetime.min.replace(tzinfo=timezone.utc)),  # before anything: the earliest
    ("9999-12-31T23:59:59-01:00", datetime.max.replace(tzinfo=timezone.utc)),  # after anything: the latest
])
def test_an_rfc_3339_date_time_with_an_offset_is_read_in_utc(text, moment):
    assert MomentQuery().load({"as_of": text})["as_of"] == moment


@pytest.mark.parametrize("text", [
    "2026-01-31T09:30:00",  # naive: which zone is unknown
    "2026-01-31", "2026-01-31T09:30Z", "20260131T093000Z", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z",
    "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00\x00Z",
    "\ud800", "２０２６-01-01T00:00:00Z", "2026-01-01T00:00:00." + "1" * 10_000 + "Z", "x" * 100_000, "",
])
def test_anything_else_is_refused_naming_the_field(text):
    with pytest.raises(ValidationError) as refused:
        MomentQuery().load({"as_of": text})
    assert list(refused.value.messages) == ["as_of"]


def test_it_is_declared_as_a_date_time_string():
    assert MomentQuery().fields["as_of"].metadata["format"] == "date-time"
