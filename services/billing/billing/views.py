"""Read-side queries on billing's read models."""
from __future__ import annotations

from datetime import datetime

from pymongo.collection import Collection

from crm_platform import merges
from crm_platform.merges import MAX_MERGE_HOPS
from crm_platform.pagination import keyset_page

from billing.adapters.retry_backoff import not_held_back, pages


def current_customer(customers: Collection, account_id: str, contact_id: str) -> dict | None:
    """The customer a document for `contact_id` is for now: the contact, or the one it was merged into (followed
    through later merges); None if billing never heard of it. A deleted (not merged) or erased one is returned
    with `deleted` set, for the caller to refuse."""
    return merges.merged_document(customers, account_id, contact_id)


def contact_and_merged(customers: Collection, account_id: str, contact_id: str) -> list[str]:
    """The contact and every contact merged into it, however many merges ago: their documents are its now."""
    found, frontier = [contact_id], [contact_id]
    for _ in range(MAX_MERGE_HOPS):
        # an indexed equality per contact (account_merged), not one `$in`: FerretDB reads every customer for that
        merged = [doc["_id"] for contact in frontier
                  for doc in customers.find({"account_id": account_id, "merged_into": contact}, {"_id": 1})
                  if doc["_id"] not in found]
        if not merged:
            break
        found.extend(merged)
        frontier = merged
    return found


INVOICE_STATUSES = ("draft", "issuing", "issued", "partially_paid", "paid", "credited", "overdue", "void")
LIST_SORT, LIST_FIELD = "-created_at", "created_at"


def invoice_status(doc: dict, today: str) -> str:
    """The status of an invoice's read-model document on `today` (ISO, the account's day): as Invoice.status."""
    if doc["stage"] != "issued":
        return doc["stage"]
    if doc["settled"]:
        return "paid" if doc["has_payments"] else "credited"
    if today > doc["due_on"]:
        return "overdue"
    return "partially_paid" if doc["has_payments"] else "issued"


def status_filter(status: str, today: str) -> dict:
    if status in ("draft", "issuing", "void"):
        return {"stage": status}
    if status in ("paid", "credited"):
        return {"stage": "issued", "settled": True, "has_payments": status == "paid"}
    if status == "overdue":
        return {"stage": "issued", "settled": False, "due_on": {"$lt": today}}
    return {"stage": "issued", "settled": False, "due_on": {"$gte": today}, "has_payments": status == "partially_paid"}


def _dated(query: dict, field: str) -> dict:
    """issued_from / issued_to (inclusive ISO dates) as a condition on `field`."""
    bounds = {}
    if query.get("issued_from"):
        bounds["$gte"] = query["issued_from"]
    if query.get("issued_to"):
        bounds["$lte"] = query["issued_to"]
    return {field: bounds} if bounds else {}


def invoice_page(invoices: Collection, account_id: str, query: dict, today: str, limit: int,
                 cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of the account's invoices, newest first, filtered by status, contact (`contact_ids`: the contact
    and those merged into it), issue dates and overdue."""
    conditions: list[dict] = []
    if query.get("status"):
        conditions.append({"$or": [status_filter(status, today) for status in query["status"]]})
    if query.get("overdue") is not None:
        overdue = status_filter("overdue", today)
        conditions.append(overdue if query["overdue"] else {"$nor": [overdue]})
    mongo_filter: dict = {"account_id": account_id, "deleted": False, **_dated(query, "issued_on")}
    if query.get("contact_ids"):
        mongo_filter["contact_id"] = {"$in": query["contact_ids"]}
    if conditions:
        mongo_filter["$and"] = conditions
    return keyset_page(invoices, mongo_filter, sort=LIST_SORT, field=LIST_FIELD, limit=limit, cursor=cursor, dated=True)


def credit_note_page(credit_notes: Collection, account_id: str, query: dict, limit: int,
                     cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of the account's credit notes, newest first, filtered by contact, invoice and issue dates."""
    mongo_filter: dict = {"account_id": account_id, **_dated(query, "issued_on")}
    if query.get("contact_ids"):
        mongo_filter["contact_id"] = {"$in": query["contact_ids"]}
    if query.get("invoice_id"):
        mongo_filter["invoice_id"] = query["invoice_id"]
    return keyset_page(credit_notes, mongo_filter, sort=LIST_SORT, field=LIST_FIELD, limit=limit, cursor=cursor,
                       dated=True)


def interrupted_issues(invoices: Collection, credit_notes: Collection, quotes: Collection, since_before: datetime,
                       now: datetime, page_size: int = 500):
    """(kind, account id, id) of invoices and credit notes still issuing (not abandoned) and quotes still sending,
    last changed before `since_before`, oldest first, all of them a page at a time; those the sweep failed on are
    left be until their backoff ends (adapters/retry_backoff.py)."""
    waiting = not_held_back(now)
    for kind, collection, interrupted in (
            ("invoice", invoices, {"stage": "issuing"}),
            ("credit_note", credit_notes, {"issued": False, "abandoned": {"$ne": True}}),
            ("quote", quotes, {"stage": "sending", "deleted": {"$ne": True}})):  # erased with their person
        mongo_filter = {**interrupted, "updated_at": {"$lt": since_before}, **waiting}
        for doc in pages(collection, mongo_filter, "updated_at", {"account_id": 1}, page_size):
            yield kind, doc["account_id"], doc["_id"]
