"""Cursor pages over a MongoDB collection, in a stable order: the sort field, then `_id`.

A cursor names the sort it was made for and the last item's sort value and id,
so the next page starts right after that item even while items are added
(no skipped or repeated items, unlike offsets). It is opaque to clients.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from crm_platform.errors import InvalidInput
from crm_platform.input_guard import text_problem


# what reading a cursor this API did not make may raise (not base64, not JSON, a time outside the calendar in UTC)
CURSOR_ERRORS = (binascii.Error, ValueError, TypeError, OverflowError)


def encode_cursor(sort: str, value, last_id: str) -> str:
    """The cursor of the page after the item (`value`, `last_id`) in `sort` order (`-name` is descending)."""
    return pack_cursor([sort, value.isoformat() if isinstance(value, datetime) else value, last_id])


def decode_cursor(cursor: str, sort: str, *, dated: bool) -> tuple[object, str]:
    """The (sort value, id) a cursor resumes after; a 422 if this API did not make it for `sort`.

    `dated` says the sort field holds datetimes (JSON carries them as ISO strings).
    """
    try:
        value, last_id = read_cursor(cursor, sort, 3)
        if dated:
            value = in_utc(datetime.fromisoformat(value))
        elif not isinstance(value, str):
            raise ValueError("bad cursor value")
        return value, last_id
    except CURSOR_ERRORS:
        raise invalid_cursor() from None


def pack_cursor(fields: list) -> str:
    """An opaque cursor carrying these fields (JSON values; the sort first, the last item's id last)."""
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


def read_cursor(cursor: str, sort: str, size: int) -> list:
    """The fields of a cursor of `size` fields made for `sort`, the sort left out; one of CURSOR_ERRORS if it is
    not one (the caller answers with invalid_cursor())."""
    fields = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    if not isinstance(fields, list) or len(fields) != size or fields[0] != sort or not isinstance(fields[-1], str):
        raise ValueError("not a cursor of this sort")
    if any(isinstance(field, str) and text_problem(field) for field in fields):  # JSON escapes NUL, lone surrogates
        raise ValueError("not text a query can carry")
    return fields[1:]


def after_item(field: str, value, last_id: str, *, descending: bool) -> dict:
    """The condition of the items after (`value`, `last_id`) in (`field`, `_id`) order, descending or not."""
    op = "$lt" if descending else "$gt"
    return {"$or": [{field: {op: value}}, {field: value, "_id": {op: last_id}}]}


def invalid_cursor() -> InvalidInput:
    return InvalidInput("cursor is not one this API returned for this sort", errors={"cursor": ["invalid cursor"]})


def in_utc(moment: datetime) -> datetime:
    """A time as an aware UTC datetime (a naive one is UTC, as stored); OverflowError if it falls outside the
    calendar there (an offset at its ends, as a forged cursor may carry: 0001-01-01T00:00:00+01:00)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def keyset_page(collection: Collection, mongo_filter: dict, *, sort: str, field: str, limit: int,
                cursor: str | None, dated: bool) -> tuple[list[dict], str | None]:
    """One page of the documents matching `mongo_filter`, ordered by `field` as `sort` asks, and the next cursor.

    `sort` is the public name (`-created_at`), `field` the document field behind it;
    the next cursor is None on the last page.
    """
    descending = sort.startswith("-")
    if cursor:
        value, last_id = decode_cursor(cursor, sort, dated=dated)
        after = after_item(field, value, last_id, descending=descending)
        mongo_filter = {**mongo_filter, "$and": [*mongo_filter.get("$and", []), after]}
    direction = DESCENDING if descending else ASCENDING
    # One more than asked tells whether a next page exists without counting.
    docs = list(collection.find(mongo_filter).sort([(field, direction), ("_id", direction)]).limit(limit + 1))
    page = docs[:limit]
    next_cursor = encode_cursor(sort, page[-1].get(field), page[-1]["_id"]) if len(docs) > limit else None
    return page, next_cursor
