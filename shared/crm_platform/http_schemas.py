"""Marshmallow bases every service's HTTP layer shares: strict request bodies and page queries."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from marshmallow import RAISE, Schema, fields, validate

MAX_PAGE_SIZE = 200


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE  # a misspelled field is an error, never silently dropped


class PageQuerySchema(StrictSchema):
    """One page of a list: how many items, and where the previous page stopped."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000))


# RFC 3339's date-time (section 5.6): a full date, a full time, and an offset; nothing ISO 8601 allows beyond that.
RFC3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)
MAX_DATE_TIME_LENGTH = 40


class Rfc3339DateTime(fields.String):
    """An RFC 3339 date-time with its offset, loaded as an aware datetime in UTC (OpenAPI `format: date-time`).

    A date-time without an offset, out of years 1 to 9999, or anything else is refused with the field named."""

    default_error_messages = {"invalid": "an RFC 3339 date-time with an offset, such as 2026-01-31T09:30:00Z"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.metadata.setdefault("format", "date-time")

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        value = super()._deserialize(value, attr, data, **kwargs)
        if len(value) > MAX_DATE_TIME_LENGTH or not RFC3339_DATE_TIME.fullmatch(value):
            raise self.make_error("invalid")
        text = value.upper().replace(" ", "T").replace("Z", "+00:00")
        whole, dot, rest = text.partition(".")
        if dot:  # Python reads at most microseconds: further digits are dropped, not rounded
            digits = re.match(r"\d+", rest).group(0)
            text = f"{whole}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:  # month 13, second 61, offset 24:00...
            raise self.make_error("invalid") from None
        try:
            return moment.astimezone(timezone.utc)
        except OverflowError:  # year 1 east of UTC, or 9999 west of it: the earliest or latest moment there is
            edge = datetime.min if moment.year == 1 else datetime.max
            return edge.replace(tzinfo=timezone.utc)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat(timespec="microseconds")
