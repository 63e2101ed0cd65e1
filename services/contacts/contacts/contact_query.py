"""Finding contacts in the read model: search, filters, sort and cursor pages.

Queries are built here from already-validated values only (strings and lists
of keys from the API schema), never from client-supplied documents, so no
operator (`$where`, `$gt`...) can be smuggled into MongoDB.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from crm_platform.errors import InvalidInput

from contacts.adapters.search_keys import digits, fold

# last_activity_at moves with every event about the contact: its own (edits, labels) and
# others' (notes; later invoices, tasks...), see adapters/activity.py.
SORT_FIELDS = {"created_at": "created_at", "updated_at": "updated_at", "last_activity": "last_activity_at",
               "first_name": "sort_first_name", "last_name": "sort_last_name"}
DATE_SORTS = {"created_at", "updated_at", "last_activity"}
PHONE_LIKE = re.compile(r"^[+\d\s().\-/]+$")
REGEX_SPECIALS = re.compile(r"([\\.^$|?*+()\[\]{}])")


@dataclass(frozen=True)
class ContactQuery:
    q: str | None = None
    labels_any: list[str] = field(default_factory=list)
    labels_all: list[str] = field(default_factory=list)
    labels_none: list[str] = field(default_factory=list)
    subscription_status: str | None = None
    deliverability: str | None = None
    country: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    sort: str = "-created_at"


def literal_regex(text: str) -> str:
    """A regex matching `text` literally (escapes only what RE2 and PCRE both treat specially)."""
    return REGEX_SPECIALS.sub(r"\\\1", text)


def build_filter(account_id: str, query: ContactQuery) -> dict:
    clauses: list[dict] = [{"account_id": account_id}, {"deleted": False}]
    if query.q:
        text = {"search_text": {"$regex": literal_regex(fold(query.q))}}
        number = digits(query.q)
        if PHONE_LIKE.match(query.q) and len(number) >= 3:
            clauses.append({"$or": [text, {"search_phones": {"$regex": number}}]})
        else:
            clauses.append(text)
    if query.labels_any:
        clauses.append({"labels": {"$in": list(query.labels_any)}})
    if query.labels_all:
        clauses.append({"labels": {"$all": list(query.labels_all)}})
    if query.labels_none:
        clauses.append({"labels": {"$nin": list(query.labels_none)}})
    if query.subscription_status:
        clauses.append({"subscription_statuses": query.subscription_status})
    if query.deliverability:
        clauses.append({"deliverabilities": query.deliverability})
    if query.country:
        clauses.append({"addresses.country": query.country})
    for name, stored, op in (("created_after", "created_at", "$gte"), ("created_before", "created_at", "$lt"),
                             ("updated_after", "last_activity_at", "$gte"), ("updated_before", "last_activity_at", "$lt")):
        if (moment := getattr(query, name)) is not None:
            clauses.append({stored: {op: moment}})
    return {"$and": clauses}


def find_page(contacts: Collection, account_id: str, query: ContactQuery, limit: int, cursor: str | None):
    """One page in the requested order, and the cursor of the next page (None on the last page)."""
    name = query.sort.lstrip("-")
    descending = query.sort.startswith("-")
    sort_field = SORT_FIELDS[name]
    mongo_filter = build_filter(account_id, query)
    if cursor:
        value, last_id = decode_cursor(cursor, query.sort)
        op = "$lt" if descending else "$gt"
        mongo_filter["$and"].append({"$or": [{sort_field: {op: value}}, {sort_field: value, "_id": {op: last_id}}]})
    direction = DESCENDING if descending else ASCENDING
    docs = list(contacts.find(mongo_filter).sort([(sort_field, direction), ("_id", direction)]).limit(limit + 1))
    page = docs[:limit]
    next_cursor = encode_cursor(query.sort, page[-1].get(sort_field), page[-1]["_id"]) if len(docs) > limit else None
    return page, next_cursor


def encode_cursor(sort: str, value, last_id: str) -> str:
    encoded = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([sort, encoded, last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str):
    try:
        cursor_sort, value, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if cursor_sort != sort or not isinstance(last_id, str):
            raise ValueError("cursor of another sort")
        if sort.lstrip("-") in DATE_SORTS:
            value = datetime.fromisoformat(value)
        elif not isinstance(value, str):
            raise ValueError("bad cursor value")
        return value, last_id
    except (binascii.Error, ValueError, TypeError):
        raise InvalidInput("cursor is not one this API returned for this sort", errors={"cursor": ["invalid cursor"]}) from None
