"""Marshmallow bases every service's HTTP layer shares: strict request bodies and page queries."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

MAX_PAGE_SIZE = 200


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE  # a misspelled field is an error, never silently dropped


class PageQuerySchema(StrictSchema):
    """One page of a list: how many items, and where the previous page stopped."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000))
