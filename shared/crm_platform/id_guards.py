"""Statements on one document by `_id` that also depend on its other fields (a guard), in a shape the server
pushes down.

`{"_id": x, **guard}` is one indexed statement on MongoDB and on FerretDB over PostgreSQL. FerretDB over SQLite
pushes a filter down only when it is `_id` alone: for anything more it reads and decodes every document of the
collection (a read model's update guarded by version: 3.6 s at 20,000 contacts; docs/figures.md). Where the server
says it scans for the shape (`server_scans_for`), the documents are read by `_id` alone, the guard is checked here
(`matches`), and the statement names the `_id` alone.

There the guard is no longer checked in the statement that writes: a writer that changes the document between the
read and the write is not seen (two consumers of one partition while a group rebalances, or a projection rebuilt
while its consumer runs; a delivery cancelled while its attempt is recorded; two erasures of one key). That trade is
made only where the server would scan, the development backend, never on MongoDB or FerretDB over PostgreSQL.
Compare-and-sets whose guard is what they are for (a mail's claim, a number's reservation, an idempotent request's
takeover) keep it in the statement everywhere: reading first would risk a mail sent twice or a number given twice.
"""
from __future__ import annotations

import operator
from datetime import datetime

from pymongo.collection import Collection

from crm_platform.mongo import find_by_ids
from crm_platform.query_plans import server_scans_for


def filters_by_id(collection: Collection, guards: dict) -> dict:
    """For each `_id` of `guards` (its guard, a filter on the document's other fields): the filter that selects
    the document only if it matches its guard. `{"_id": x, **guard}` where the server answers that shape from an
    index; where it would scan, the document read now by `_id`: `{"_id": x}` if it matches, None if it does not or
    is missing. The guards share one shape (the same fields and operators): the first one's decides for all."""
    if not guards:
        return {}
    sample_id, sample_guard = next(iter(guards.items()))
    if not server_scans_for(collection, {"_id": sample_id, **sample_guard}):
        return {doc_id: {"_id": doc_id, **guard} for doc_id, guard in guards.items()}
    fields = {name: 1 for guard in guards.values() for name in _fields_of(guard)}
    found = {doc["_id"]: doc for doc in find_by_ids(collection, list(guards), fields or {"_id": 1})}
    return {doc_id: {"_id": doc_id} if doc_id in found and matches(found[doc_id], guard) else None
            for doc_id, guard in guards.items()}


def filter_by_id(collection: Collection, doc_id, guard: dict) -> dict | None:
    """The filter that selects the document `doc_id` only if it matches `guard` (see `filters_by_id`)."""
    return filters_by_id(collection, {doc_id: guard})[doc_id]


def compare_and_set(collection: Collection, where: dict) -> dict:
    """The filter of a write that holds only if the document still has the values the caller has just read
    (`where`: its `_id` and those values): `where` itself, or its `_id` alone where the server would scan for it
    (nothing read again: the caller's read is the check)."""
    return {"_id": where["_id"]} if server_scans_for(collection, where) else where


def matches(document: dict, guard: dict) -> bool:
    """Whether `document` matches `guard` as the server would judge it, for what guards use: equality, `$lt`,
    `$lte`, `$gt`, `$gte` on numbers, strings and dates, `$ne`, `$exists`, and `$or` / `$and` of guards, on
    top-level fields. Anything else (another operator or kind of value, a comparison with an array) raises
    ValueError: a guard this does not judge must not be judged wrong."""
    for name, wanted in guard.items():
        if name in ("$or", "$and"):
            results = [matches(document, part) for part in wanted]
            if not (any(results) if name == "$or" else all(results)):
                return False
        elif not _field_matches(name in document, document.get(name), _checked(name, wanted)):
            return False
    return True


_COMPARISONS = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
_SCALARS = (bool, int, float, str, datetime, type(None))


def _field_matches(present: bool, value, wanted) -> bool:
    if not _is_operators(wanted):
        return _equal(value, wanted)  # a missing field is None here, and {field: None} matches it
    for name, operand in wanted.items():
        if name == "$exists":
            if present != bool(operand):
                return False
        elif name == "$ne":
            if _field_matches(present, value, operand):
                return False
        elif not present or not _comparable(value, operand) or not _COMPARISONS[name](value, operand):
            return False  # MongoDB compares within a kind (numbers, strings, dates); a missing field is none
    return True


def _equal(value, wanted) -> bool:
    if isinstance(value, list):
        return any(_equal(item, wanted) for item in value)  # an array matches an equality on any of its items
    if _number(value) and _number(wanted):
        return value == wanted  # 2 and 2.0 are equal
    return type(value) is type(wanted) and value == wanted


def _comparable(value, operand) -> bool:
    if isinstance(value, list):
        raise ValueError("a comparison with an array is not judged here")
    if isinstance(value, datetime) and isinstance(operand, datetime) and (value.tzinfo is None) != (
            operand.tzinfo is None):
        raise ValueError("a date with a time zone compared with one without is not judged here")
    same_kind = type(value) is type(operand) and isinstance(value, (str, datetime))
    return same_kind or (_number(value) and _number(operand))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_operators(wanted) -> bool:
    return isinstance(wanted, dict) and bool(wanted) and all(key.startswith("$") for key in wanted)


def _checked(name: str, wanted):
    """`wanted` for the field `name`, if this module judges it as the server does; else ValueError."""
    if name.startswith("$") or "." in name:
        raise ValueError(f"a guard on {name!r} is not judged here")
    if not _is_operators(wanted):
        if not isinstance(wanted, _SCALARS):
            raise ValueError(f"an equality with {type(wanted).__name__} is not judged here")
        return wanted
    for operator_name, operand in wanted.items():
        if operator_name == "$exists":
            continue
        if operator_name not in ("$ne", *_COMPARISONS):
            raise ValueError(f"the operator {operator_name!r} is not judged here")
        if operator_name in _COMPARISONS and not (_number(operand) or isinstance(operand, (str, datetime))):
            raise ValueError(f"a comparison with {type(operand).__name__} is not judged here")
        if operator_name == "$ne" and not isinstance(operand, _SCALARS):
            raise ValueError(f"$ne of {type(operand).__name__} is not judged here")
    return wanted


def _fields_of(guard: dict) -> set[str]:
    """The fields `guard` reads (to read only those); ValueError for a guard `matches` would refuse."""
    fields: set[str] = set()
    for name, wanted in guard.items():
        if name in ("$or", "$and"):
            for part in wanted:
                fields |= _fields_of(part)
        else:
            _checked(name, wanted)
            fields.add(name)
    return fields
