"""Pages of contacts sorted by creation, read bucket by bucket (adapters/contact_numbers.py).

The order is the contacts' creation buckets, then `created_at`, then `_id` (descending for
`-created_at`): within the contacts of one moment, the order in which the projection numbered them.
A page reads the buckets one equality at a time, from the cursor's on, until it is full: one bucket
(at most BUCKET_SIZE contacts) for a list without a selective filter. A filter that lets few
contacts through each bucket (a name searched, a rare label) would walk many nearly empty buckets:
after BUCKETS_WALKED of them, one query reads all the rest, in the same order, which costs what the
filter lets through (what a selective filter keeps small).
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from crm_platform.errors import InvalidInput

from contacts.adapters.contact_numbers import BucketRange

BUCKETS_WALKED = 8


def creation_page(contacts: Collection, mongo_filter: dict, buckets: BucketRange, *, sort: str, limit: int,
                  cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of the contacts matching `mongo_filter` in `sort` order (`created_at` or `-created_at`), and the
    cursor of the next page (None on the last page)."""
    descending = sort.startswith("-")
    order = buckets.in_order(descending)
    start, after = 0, None
    if cursor:
        bucket, created_at, last_id = _decode(cursor, sort)
        if bucket not in order:  # numbered since (its contacts are now in the lowest buckets), or no longer any
            return [], None
        start = order.index(bucket)
        op = "$lt" if descending else "$gt"
        after = {"$or": [{"created_at": {op: created_at}}, {"created_at": created_at, "_id": {op: last_id}}]}
    direction = DESCENDING if descending else ASCENDING
    found: list[dict] = []
    position = start
    while position < len(order) and len(found) <= limit:
        if position - start == BUCKETS_WALKED:
            rest = _from_bucket(order[position], descending, unnumbered=buckets.unnumbered)
            sort_keys = [("list_bucket", direction), ("created_at", direction), ("_id", direction)]
            found += contacts.find(_and(mongo_filter, rest)).sort(sort_keys).limit(limit + 1 - len(found))
            break
        query = _in_bucket(mongo_filter, order[position])
        if position == start and after:
            query = _and(query, after)
        found += contacts.find(query).sort([("created_at", direction), ("_id", direction)]).limit(limit + 1 - len(found))
        position += 1
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    last = page[-1]
    return page, _encode(sort, last.get("list_bucket"), last.get("created_at"), last["_id"])


def _in_bucket(mongo_filter: dict, bucket: int | None) -> dict:
    if bucket is None:
        return _and(mongo_filter, {"list_bucket": {"$exists": False}})
    return {**mongo_filter, "list_bucket": bucket}  # a top-level equality: pushed down by FerretDB, indexed


def _from_bucket(bucket: int | None, descending: bool, *, unnumbered: bool) -> dict:
    """The buckets from this one on, in the list's order (the contacts without a number come last, descending)."""
    if bucket is None:
        return {"list_bucket": {"$exists": False}}
    if not descending:
        return {"list_bucket": {"$gte": bucket}}
    numbered = {"list_bucket": {"$lte": bucket}}
    return {"$or": [numbered, {"list_bucket": {"$exists": False}}]} if unnumbered else numbered


def _and(mongo_filter: dict, clause: dict) -> dict:
    return {**mongo_filter, "$and": [*mongo_filter.get("$and", []), clause]}


def _encode(sort: str, bucket: int | None, created_at: datetime | None, last_id: str) -> str:
    moment = created_at.isoformat() if created_at else None
    raw = json.dumps([sort, bucket, moment, last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[int | None, datetime | None, str]:
    try:
        cursor_sort, bucket, moment, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if cursor_sort != sort or not isinstance(last_id, str):
            raise ValueError("cursor of another sort")
        if bucket is not None and (not isinstance(bucket, int) or isinstance(bucket, bool)):
            raise ValueError("bad bucket")
        return bucket, datetime.fromisoformat(moment) if moment is not None else None, last_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this API returned for this sort", errors={"cursor": ["invalid cursor"]}) from None
