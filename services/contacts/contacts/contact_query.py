"""Finding contacts in the read model: search, filters, sort and cursor pages.

Queries are built here from already-validated values only (strings and lists
of keys from the API schema), never from client-supplied documents, so no
operator (`$where`, `$gt`...) can be smuggled into MongoDB.
"""
from __future__ import annotations

import math

import re
from dataclasses import dataclass, field
from datetime import datetime

from pymongo.collection import Collection

from crm_platform.errors import InvalidInput
from crm_platform.pagination import keyset_page

from contacts.adapters.contact_numbers import ContactNumbers
from contacts.adapters.name_initials import INITIAL_FIELDS, NameInitials
from contacts.adapters.search_keys import search_terms, starts_a_word
from contacts.contact_pages import creation_page, name_page

# last_activity_at moves with every event about the contact: its own (edits, labels) and
# others' (notes; later invoices, tasks...), see adapters/activity.py.
SORT_FIELDS = {"created_at": "created_at", "updated_at": "updated_at", "last_activity": "last_activity_at",
               "first_name": "sort_first_name", "last_name": "sort_last_name"}
DATE_SORTS = {"created_at", "updated_at", "last_activity"}
REGEX_SPECIALS = re.compile(r"([\\.^$|?*+()\[\]{}])")
# The start of a word of `search_text`: its start, or after a character that is neither a letter nor a
# digit (what search_keys calls a run). Both PCRE (MongoDB) and RE2 (FerretDB) know the classes.
WORD_START = r"(?:^|[^\p{L}\p{N}])"
CONDITION_OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "exists", "starts_with")
COMPARISONS = {"ne": "$ne", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
MAX_IN_VALUES = 50


@dataclass(frozen=True)
class ContactQuery:
    q: str | None = None
    labels_any: list[str] = field(default_factory=list)
    labels_all: list[str] = field(default_factory=list)
    labels_none: list[str] = field(default_factory=list)
    subscription_status: str | None = None
    deliverability: str | None = None
    country: str | None = None
    function: list[str] = field(default_factory=list)
    department: list[str] = field(default_factory=list)
    custom_conditions: list[dict] = field(default_factory=list)  # typed by typed_conditions()
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    sort: str = "-created_at"


def literal_regex(text: str) -> str:
    """A regex matching `text` literally (escapes only what RE2 and PCRE both treat specially)."""
    return REGEX_SPECIALS.sub(r"\\\1", text)


def text_regex(word: str) -> str:
    """The regex of a query word checked as typed: at the start of a word unless it starts with punctuation."""
    return WORD_START + literal_regex(word) if starts_a_word(word) else literal_regex(word)


def build_filter(account_id: str, query: ContactQuery) -> dict:
    """The MongoDB filter: plain equalities at the top level, everything else under `$and`.

    Same meaning either way on MongoDB; FerretDB pushes top-level equalities
    down to its storage and decodes only the documents they let through (on
    PostgreSQL, `labels: "client"` becomes a containment test in SQL), so a
    label or status filter no longer decodes the whole account.
    """
    equal: dict = {"account_id": account_id, "deleted": False}
    clauses: list[dict] = []

    def add(stored: str, values) -> None:
        if len(values) == 1 and stored not in equal:
            equal[stored] = values[0]
        elif values:
            clauses.append({stored: {"$in": list(values)}})

    if query.q:
        # One token as a top-level equality (what FerretDB pushes down: an `$and` of equalities
        # it evaluates after reading), the longest: it lets the fewest contacts through.
        terms = search_terms(query.q)
        if terms.tokens:
            equal["search_tokens"] = terms.tokens[0]
        clauses += [{"search_tokens": token} for token in terms.tokens[1:]]
        clauses += [{"search_text": {"$regex": text_regex(word)}} for word in terms.literal_words]
        if terms.phone_start:
            clauses.append({"phones.e164": {"$regex": "^" + literal_regex(terms.phone_start)}})
    add("labels", query.labels_any)
    if query.labels_all:
        clauses.append({"labels": {"$all": list(query.labels_all)}})
    if query.labels_none:
        clauses.append({"labels": {"$nin": list(query.labels_none)}})
    for stored, value in (("subscription_statuses", query.subscription_status),
                          ("deliverabilities", query.deliverability), ("addresses.country", query.country)):
        if value:
            add(stored, [value])
    add("function", query.function)
    add("department", query.department)
    clauses.extend(_custom_clause(c["key"], c["op"], c["value"]) for c in query.custom_conditions)
    for name, stored, op in (("created_after", "created_at", "$gte"), ("created_before", "created_at", "$lt"),
                             ("updated_after", "last_activity_at", "$gte"), ("updated_before", "last_activity_at", "$lt")):
        if (moment := getattr(query, name)) is not None:
            clauses.append({stored: {op: moment}})
    return {**equal, "$and": clauses} if clauses else equal


def _custom_clause(key: str, op: str, value) -> dict:
    path = f"custom_fields.{key}"  # the key matched KEY_PATTERN: no dots, no `$`
    if op == "eq":
        return {path: value}
    if op == "in":
        return {path: {"$in": list(value)}}
    if op == "exists":
        return {path: {"$exists": value}}
    if op == "starts_with":
        return {path: {"$regex": "^" + literal_regex(value), "$options": "i"}}
    return {path: {COMPARISONS[op]: value}}


def typed_conditions(conditions: list[dict], types: dict[str, str]) -> list[dict]:
    """Conditions with values of their field's type (numbers as numbers...); InvalidInput names the parameter."""
    typed, problems = [], {}
    for condition in conditions:
        key, op, raw, param = condition["key"], condition["op"], condition["value"], condition["param"]
        kind = types.get(key)
        try:
            if kind is None:
                raise ValueError("no such custom field in this account")
            if op == "exists":
                value = {"true": True, "false": False}[raw.lower()] if raw.lower() in ("true", "false") else None
                if value is None:
                    raise ValueError("true or false")
            elif op == "starts_with":
                if kind == "number":
                    raise ValueError("starts_with applies to text, date and url fields")
                value = raw
            elif op == "in":
                values = [v.strip() for v in raw.split(",") if v.strip()]
                if not values or len(values) > MAX_IN_VALUES:
                    raise ValueError(f"1 to {MAX_IN_VALUES} comma-separated values")
                value = [_typed(v, kind) for v in values]
            else:
                value = _typed(raw, kind)
        except ValueError as exc:
            problems[param] = [str(exc)]
            continue
        typed.append({"key": key, "op": op, "value": value})
    if problems:
        raise InvalidInput("invalid custom field conditions", errors=problems)
    return typed


def _typed(raw: str, kind: str):
    if kind == "number":
        try:
            number = float(raw.strip().replace(",", "."))
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(number):  # nan or inf: the database server drops the connection on some
            raise ValueError("must be a finite number")
        return int(number) if number.is_integer() and abs(number) < 2**63 else number  # BSON: 64-bit integers
    if kind == "date":
        try:
            return datetime.strptime(raw.strip(), "%Y-%m-%d").date().isoformat()
        except ValueError:
            raise ValueError("must be a date as YYYY-MM-DD") from None
    return raw


def find_page(contacts: Collection, account_id: str, query: ContactQuery, limit: int, cursor: str | None,
              numbers: ContactNumbers | None = None, initials: NameInitials | None = None):
    """One page in the requested order, and the cursor of the next page (None on the last page).

    With the projection's `numbers`, a page sorted by creation reads the account's creation buckets one
    at a time (contact_pages.py) instead of sorting every contact the filter lets through; with its
    `initials`, a page sorted by a name reads one initial at a time, once every contact has them."""
    name = query.sort.lstrip("-")
    mongo_filter = build_filter(account_id, query)
    if numbers is not None and name == "created_at":
        return creation_page(contacts, mongo_filter, numbers.buckets(account_id), sort=query.sort, limit=limit,
                             cursor=cursor)
    if initials is not None and SORT_FIELDS[name] in INITIAL_FIELDS and initials.everywhere():
        return name_page(contacts, mongo_filter, sort=query.sort, field=SORT_FIELDS[name], limit=limit, cursor=cursor)
    return keyset_page(contacts, mongo_filter, sort=query.sort, field=SORT_FIELDS[name],
                       limit=limit, cursor=cursor, dated=name in DATE_SORTS)
