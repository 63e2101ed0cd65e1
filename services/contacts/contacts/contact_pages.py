"""Pages of contacts sorted by creation, read bucket by bucket (adapters/contact_numbers.py), and pages sorted
by a name, read initial by initial (adapters/name_initials.py).

The order is the contacts' creation buckets, then `created_at`, then `_id` (descending for
`-created_at`): within the contacts of one moment, the order in which the projection numbered them.
A page reads the buckets one equality at a time, from the cursor's on, until it is full: one bucket
(at most BUCKET_SIZE contacts) for a list without a selective filter. A filter that lets few
contacts through each bucket (a name searched, a rare label) would walk many nearly empty buckets:
after BUCKETS_WALKED of them, unless what they found says the page fills soon, one query reads all
the rest, in the same order, which costs what the filter lets through (what a selective filter
keeps small).

A server that does not read a bucket by its index (FerretDB on SQLite pushes down nothing but
`_id`) would scan the collection for each bucket: where it says so (crm_platform.query_plans),
pages are read with the one query, in the same order (cursors stay valid).

A page sorted by a name reads the initials in the list's order from the cursor's, one equality each, until
it is full: what the filter lets through of one initial or a few, instead of all of it. There are few
initials (name_initials.INITIALS), so the walk never gives up for one query: an empty one costs a read that
finds nothing, and the whole walk decodes what the one query would. Its cursors are keyset_page's (the last
name and id), from which the initial follows.
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from crm_platform.pagination import (CURSOR_ERRORS, after_item, decode_cursor, encode_cursor, in_utc,
                                     invalid_cursor, keyset_page, pack_cursor, read_cursor)
from crm_platform.query_plans import server_scans_for

from contacts.adapters.contact_numbers import BucketRange
from contacts.adapters.name_initials import INITIAL_FIELDS, INITIALS, initial_of

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
        if bucket not in order:  # not this account's (numbers only grow), or its unnumbered contacts numbered since
            raise invalid_cursor()
        start = order.index(bucket)
        after = after_item("created_at", created_at, last_id, descending=descending)
    direction = DESCENDING if descending else ASCENDING
    found: list[dict] = []
    position = start
    walks = not server_scans_for(contacts, {"account_id": mongo_filter["account_id"], "list_bucket": 0})
    while position < len(order) and len(found) <= limit:
        resume = after if position == start else None
        if not walks or not _worth_walking(position - start, len(found), limit + 1 - len(found),
                                           len(order) - position):
            rest = _rest(order, position, descending, buckets.unnumbered, resume)
            sort_keys = [("list_bucket", direction), ("created_at", direction), ("_id", direction)]
            found += contacts.find(and_also(mongo_filter, rest)).sort(sort_keys).limit(limit + 1 - len(found))
            break
        query = _in_bucket(mongo_filter, order[position])
        found += contacts.find(and_also(query, resume) if resume else query) \
            .sort([("created_at", direction), ("_id", direction)]).limit(limit + 1 - len(found))
        position += 1
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    last = page[-1]
    return page, _encode(sort, last.get("list_bucket"), last.get("created_at"), last["_id"])


def name_page(contacts: Collection, mongo_filter: dict, *, sort: str, field: str, limit: int,
              cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of the contacts matching `mongo_filter` sorted by the name `field` (`sort_last_name`...) as `sort`
    asks, then by `_id`, and the cursor of the next page (None on the last page). Every live contact must carry
    its initials (NameInitials.everywhere)."""
    initial = INITIAL_FIELDS[field]
    if server_scans_for(contacts, {"account_id": mongo_filter["account_id"], initial: ""}):
        return keyset_page(contacts, mongo_filter, sort=sort, field=field, limit=limit, cursor=cursor, dated=False)
    descending = sort.startswith("-")
    order = INITIALS[::-1] if descending else INITIALS
    start, after = 0, None
    if cursor:
        name, last_id = decode_cursor(cursor, sort, dated=False)
        start = order.index(initial_of(name))
        after = after_item(field, name, last_id, descending=descending)
    direction = DESCENDING if descending else ASCENDING
    found: list[dict] = []
    for position in range(start, len(order)):
        query = {**mongo_filter, initial: order[position]}  # a top-level equality: pushed down, indexed
        if position == start and after:
            query = and_also(query, after)
        found += contacts.find(query).sort([(field, direction), ("_id", direction)]).limit(limit + 1 - len(found))
        if len(found) > limit:
            break
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    return page, encode_cursor(sort, page[-1].get(field), page[-1]["_id"])


def _worth_walking(walked: int, found: int, needed: int, left: int) -> bool:
    """Whether to read the next bucket rather than all the rest at once. The first BUCKETS_WALKED always;
    then only while what they found says the page fills within half the buckets left: the one query
    decodes every contact its pushed-down equalities let through in all of them, so it pays off only
    when the page would not fill before the end (e.g. `louise marti`: 10 % of the account for `louise`,
    one in 20 of those a Martin, the page fills after about 40 buckets of the 400 of 100,000 contacts)."""
    if walked < BUCKETS_WALKED:
        return True
    return found > 0 and needed * walked / found <= left / 2


def _rest(order: list[int | None], position: int, descending: bool, unnumbered: bool, resume: dict | None) -> dict:
    """The contacts of the buckets from `position` on, in one condition; `resume` continues within the first."""
    rest = _from_bucket(order[position], descending, unnumbered=unnumbered)
    if resume is None:
        return rest
    first = and_also(_in_bucket({}, order[position]), resume)
    if position + 1 == len(order):
        return first
    return {"$or": [first, _from_bucket(order[position + 1], descending, unnumbered=unnumbered)]}


def _in_bucket(mongo_filter: dict, bucket: int | None) -> dict:
    if bucket is None:
        return and_also(mongo_filter, {"list_bucket": {"$exists": False}})
    return {**mongo_filter, "list_bucket": bucket}  # a top-level equality: pushed down by FerretDB, indexed


def _from_bucket(bucket: int | None, descending: bool, *, unnumbered: bool) -> dict:
    """The buckets from this one on, in the list's order (the contacts without a number come last, descending;
    first, ascending: from them on is every contact)."""
    if bucket is None:
        return {"list_bucket": {"$exists": False}} if descending else {}
    if not descending:
        return {"list_bucket": {"$gte": bucket}}
    numbered = {"list_bucket": {"$lte": bucket}}
    return {"$or": [numbered, {"list_bucket": {"$exists": False}}]} if unnumbered else numbered


def and_also(mongo_filter: dict, clause: dict) -> dict:
    """The filter with one more condition (none for an empty one)."""
    if not clause:
        return mongo_filter
    return {**mongo_filter, "$and": [*mongo_filter.get("$and", []), clause]}


def _encode(sort: str, bucket: int | None, created_at: datetime | None, last_id: str) -> str:
    return pack_cursor([sort, bucket, created_at.isoformat() if created_at else None, last_id])


def _decode(cursor: str, sort: str) -> tuple[int | None, datetime | None, str]:
    try:
        bucket, moment, last_id = read_cursor(cursor, sort, 4)
        if bucket is not None and (not isinstance(bucket, int) or isinstance(bucket, bool)):
            raise ValueError("bad bucket")
        return bucket, in_utc(datetime.fromisoformat(moment)) if moment is not None else None, last_id
    except CURSOR_ERRORS:
        raise invalid_cursor() from None
