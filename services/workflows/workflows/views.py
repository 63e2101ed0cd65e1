"""Read-side queries on the boards and cards read models.

"Overdue" (past the due date) is reckoned in the account's time zone (its workflows settings,
DEFAULT_ZONE until set).
"Stale" counts days since the card entered its stage.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.pagination import keyset_page

from workflows.domain.cards import OPEN

DEFAULT_ZONE = ZoneInfo("Europe/Paris")


def today_in_account(now: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> date:
    return now.astimezone(zone).date()


def boards_page(boards: Collection, account_id: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    return keyset_page(boards, {"account_id": account_id}, sort="name", field="name", limit=limit, cursor=cursor,
                       dated=False)


def column(cards: Collection, account_id: str, stage: dict, limit: int, cursor: str | None) -> dict:
    """One stage's open cards in order (a page of them), with their count and value totals by currency."""
    in_stage = {"account_id": account_id, "stage_id": stage["id"], "status": OPEN}
    page, next_cursor = keyset_page(cards, in_stage, sort="position", field="position", limit=limit, cursor=cursor,
                                    dated=False)
    totals: dict[str, Decimal] = {}
    count = 0
    for doc in cards.find(in_stage, {"value": 1, "currency": 1}):
        count += 1
        if doc.get("value") is not None:
            totals[doc["currency"]] = totals.get(doc["currency"], Decimal(0)) + Decimal(doc["value"])
    return {"stage": stage, "cards": page, "next_cursor": next_cursor, "count": count,
            "totals": {currency: str(total) for currency, total in sorted(totals.items())}}


def cards_page(cards: Collection, boards: Collection, account_id: str, filters: dict, now: datetime, limit: int,
               cursor: str | None, zone: ZoneInfo = DEFAULT_ZONE) -> tuple[list[dict], str | None]:
    """A page of the account's cards, newest first, filtered by board, stage, status, contact, overdue, stale."""
    query: dict = {"account_id": account_id}
    and_: list[dict] = []
    for name in ("board_id", "stage_id", "status"):
        if filters.get(name) is not None:
            query[name] = filters[name]
    if filters.get("contact_id") is not None:
        query["contact_ids"] = filters["contact_id"]
    if filters.get("overdue") is not None:
        today = today_in_account(now, zone).isoformat()
        overdue = {"status": OPEN, "due_on": {"$lt": today, "$ne": None}}
        and_.append(overdue if filters["overdue"] else {"$nor": [overdue]})
    if filters.get("stale") is not None:
        stale = {"$or": _stale_clauses(boards, account_id, now) or [{"_id": {"$in": []}}]}
        and_.append(stale if filters["stale"] else {"$nor": [stale]})
    if and_:
        query["$and"] = and_
    return keyset_page(cards, query, sort="-created_at", field="created_at", limit=limit, cursor=cursor, dated=False)


def _stale_clauses(boards: Collection, account_id: str, now: datetime) -> list[dict]:
    """Open cards that entered their stage more than the stage's `stale_after_days` ago."""
    clauses = []
    for board in boards.find({"account_id": account_id}, {"stages": 1}).sort([("_id", ASCENDING)]):
        for stage in board["stages"]:
            if stage.get("stale_after_days"):
                cutoff = (now - timedelta(days=stage["stale_after_days"])).astimezone(timezone.utc)
                clauses.append({"stage_id": stage["id"], "status": OPEN,
                                "moved_at": {"$lt": cutoff.isoformat(timespec="seconds")}})
    return clauses


def utc_now_text() -> str:
    """Now, as card events record it (string order is time order)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def tasks_page(tasks: Collection, account_id: str, filters: dict, now: datetime, limit: int,
               cursor: str | None) -> tuple[list[dict], str | None]:
    """A page of the account's tasks, by due time, filtered by status, upcoming or overdue, contact or card."""
    query: dict = {"account_id": account_id, "deleted": False}
    if filters.get("status") is not None:
        query["status"] = filters["status"]
    if filters.get("contact_id") is not None:
        query["contact_id"] = filters["contact_id"]
    if filters.get("card_id") is not None:
        query["card_id"] = filters["card_id"]
    if filters.get("due") is not None:
        instant = now.astimezone(timezone.utc).isoformat(timespec="seconds")
        upcoming = filters["due"] == "upcoming"
        query["$and"] = [{"status": OPEN}, {"due_at": {"$gte" if upcoming else "$lt": instant}}]
    return keyset_page(tasks, query, sort="due_at", field="due_at", limit=limit, cursor=cursor, dated=False)
