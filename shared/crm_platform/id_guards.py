"""Statements on one document by `_id` that also depend on its other fields (a guard), indexed on every server.

`{"_id": x, **guard}` is one indexed statement on MongoDB and on FerretDB over PostgreSQL. FerretDB over SQLite
pushes a filter down only when it is `_id` alone: for anything more it reads and decodes every document of the
collection (a read model's update guarded by version: 3.6 s at 20,000 contacts; docs/figures.md). Where the server
says it scans for the shape (`server_scans_for`), the documents are read by `_id` alone, the guard is checked here
(`matches`), and the statement names the `_id` alone.

There the guard is no longer checked in the statement that writes: a writer that changes the document between the
read and the write is not seen (two consumers of one partition while a group rebalances). That trade is made only
where the server would scan, the development backend, never on MongoDB or FerretDB over PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime

from pymongo.collection import Collection

from crm_platform.mongo import find_by_ids
from crm_platform.query_plans import server_scans_for


def filters_by_id(collection: Collection, guards: dict) -> dict:
    """For each `_id` of `guards` (its guard, a filter on the document's other fields): the filter that selects
    the document only if it matches its guard. `{"_id": x, **guard}` where the server answers that shape from an
    index; where it would scan, the document read now by `_id`: `{"_id": x}` if it matches, None if it does not or
    is missing."""
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


def matches(document: dict, guard: dict) -> bool:
    """Whether `document` matches `guard` as the server would judge it, for the operators guards use: equality,
    `$lt`, `$lte`, `$gt`, `$gte`, `$ne`, `$exists`, and `$or` / `$and` of guards. Top-level fields only; any other
    operator raises ValueError (a guard this does not judge must not be judged wrong)."""
    for name, wanted in guard.items():
        if name in ("$or", "$and"):
            results = (matches(document, part) for part in wanted)
            if not (any(results) if name == "$or" else all(results)):
                return False
        elif name.startswith("$") or "." in name:
            raise ValueError(f"a guard on {name!r} is not judged here")
        elif not _field_matches(name in document, document.get(name), wanted):
            return False
    return True


_COMPARISONS = {"$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b,
                "$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b}


def _field_matches(present: bool, value, wanted) -> bool:
    if not (isinstance(wanted, dict) and wanted and all(key.startswith("$") for key in wanted)):
        return _equal(value, wanted) if present or wanted is not None else True  # {field: None} matches a missing one
    for operator, operand in wanted.items():
        if operator == "$exists":
            if present != bool(operand):
                return False
        elif operator == "$ne":
            if _field_matches(present, value, operand):
                return False
        elif operator in _COMPARISONS:
            # MongoDB compares within a kind (numbers, strings, dates); a missing field matches no comparison
            if not present or not _comparable(value, operand) or not _COMPARISONS[operator](value, operand):
                return False
        else:
            raise ValueError(f"the operator {operator!r} is not judged here")
    return True


def _equal(value, wanted) -> bool:
    if isinstance(value, list) and not isinstance(wanted, list):
        return any(_equal(item, wanted) for item in value)  # an array matches an equality on any of its items
    return type(value) is type(wanted) and value == wanted or _numbers(value, wanted) and value == wanted


def _comparable(value, operand) -> bool:
    return _numbers(value, operand) or (type(value) is type(operand) and isinstance(value, (str, bytes, datetime)))


def _numbers(*values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _fields_of(guard: dict) -> set[str]:
    fields: set[str] = set()
    for name, wanted in guard.items():
        if name in ("$or", "$and"):
            for part in wanted:
                fields |= _fields_of(part)
        else:
            fields.add(name)
    return fields
