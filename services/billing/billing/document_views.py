"""Read-side queries on the quotes and recurring invoices read models (invoices' and credit notes': views.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from pymongo.collection import Collection

from crm_platform.pagination import keyset_page

from billing.adapters.retry_backoff import not_held_back, pages
from billing.views import LIST_FIELD, LIST_SORT

QUOTE_STATUSES = ("draft", "sending", "sent", "expired", "accepted", "declined", "converted")
RECURRING_STATUSES = ("active", "paused", "cancelled", "ended")


def quote_status(doc: dict, today: str) -> str:
    """The status of a quote's read-model document on `today` (ISO, the account's day): as Quote.status."""
    if doc["stage"] == "sent" and doc.get("valid_until") and today > doc["valid_until"]:
        return "expired"
    return doc["stage"]


def quote_status_filter(status: str, today: str) -> dict:
    if status == "sent":
        return {"stage": "sent", "valid_until": {"$gte": today}}
    if status == "expired":
        return {"stage": "sent", "valid_until": {"$lt": today}}
    return {"stage": status}


def quote_page(quotes: Collection, account_id: str, query: dict, today: str, limit: int,
               cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of the account's quotes, newest first, filtered by status and contact (`contact_ids`)."""
    mongo_filter: dict = {"account_id": account_id, "deleted": False}
    if query.get("status"):
        mongo_filter["$or"] = [quote_status_filter(status, today) for status in query["status"]]
    if query.get("contact_ids"):
        mongo_filter["contact_id"] = {"$in": query["contact_ids"]}
    return keyset_page(quotes, mongo_filter, sort=LIST_SORT, field=LIST_FIELD, limit=limit, cursor=cursor, dated=True)


def recurring_status(doc: dict) -> str:
    return "ended" if doc.get("ended") else doc["state"]


def recurring_page(recurring_invoices: Collection, account_id: str, query: dict, limit: int,
                   cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of the account's recurring invoices, newest first, filtered by status and contact."""
    mongo_filter: dict = {"account_id": account_id, "deleted": {"$ne": True}}  # erased with their person
    if query.get("status"):
        mongo_filter["$or"] = [{"ended": True} if status == "ended" else {"state": status, "ended": False}
                               for status in query["status"]]
    if query.get("contact_ids"):
        mongo_filter["contact_id"] = {"$in": query["contact_ids"]}
    return keyset_page(recurring_invoices, mongo_filter, sort=LIST_SORT, field=LIST_FIELD, limit=limit, cursor=cursor,
                       dated=True)


def due_recurring_invoices(recurring_invoices: Collection, day: str, now: datetime,
                           page_size: int = 500) -> Iterator[tuple[str, str]]:
    """(account id, id) of the active recurring invoices whose next occurrence falls due on or before `day`, oldest
    due first, all of them a page at a time; those that failed are left be until their backoff ends
    (adapters/retry_backoff.py)."""
    due = {"state": "active", "next_due_on": {"$ne": None, "$lte": day}, "deleted": {"$ne": True},
           **not_held_back(now)}
    for doc in pages(recurring_invoices, due, "next_due_on", {"account_id": 1}, page_size):
        yield doc["account_id"], doc["_id"]


def expired_retentions(invoices: Collection, day: str, page_size: int = 500) -> Iterator[tuple[str, str]]:
    """(account id, id) of the invoices kept for the law (restricted) until before `day` (ISO) whose key is not
    shredded yet (not `erased`), oldest retention first, a page at a time (the retention job's)."""
    expired = {"retain_until": {"$ne": None, "$lt": day}, "erased": {"$ne": True}}
    for doc in pages(invoices, expired, "retain_until", {"account_id": 1}, page_size):
        yield doc["account_id"], doc["_id"]
