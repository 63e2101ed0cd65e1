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

from crm_platform.pagination import decode_cursor, encode_cursor, keyset_page

from workflows.domain.cards import OPEN

DEFAULT_ZONE = ZoneInfo("Europe/Paris")


def today_in_account(now: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> date:
    return now.astimezone(zone).date()


def boards_page(boards: Collection, account_id: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    return keyset_page(boards, {"account_id": account_id}, sort="name", field="name", limit=limit, cursor=cursor,
                       dated=False)


def columns(cards: Collection, account_id: str, board_id: str, stages: list[dict], limit: int,
            cursor: str | None) -> list[dict]:
    """Each of these stages' open cards in order (a page of them, after `cursor`), with their count and value
    totals by currency.

    One statement for the whole board: FerretDB evaluates sorts, ranges and `$or` (a cursor) by decoding every
    document its equalities let through, so a page and a count per stage decoded each card of the board twice,
    in 2 statements per stage. Here each open card of the board is read once and the pages are cut in memory.
    """
    after = decode_cursor(cursor, "position", dated=False) if cursor else None
    query = {"account_id": account_id, "board_id": board_id, "status": OPEN}
    if len(stages) == 1:
        query["stage_id"] = stages[0]["id"]
    in_stage: dict[str, list[dict]] = {stage["id"]: [] for stage in stages}
    for doc in cards.find(query):
        in_stage.get(doc["stage_id"], []).append(doc)
    return [_column(stage, in_stage[stage["id"]], limit, after) for stage in stages]


def _column(stage: dict, docs: list[dict], limit: int, after: tuple[object, str] | None) -> dict:
    totals: dict[str, Decimal] = {}
    for doc in docs:
        if doc.get("value") is not None:
            totals[doc["currency"]] = totals.get(doc["currency"], Decimal(0)) + Decimal(doc["value"])
    in_order = sorted(docs, key=_place)  # positions are ASCII: Python's order is the server's
    if after is not None:
        in_order = [doc for doc in in_order if _place(doc) > after]
    page = in_order[:limit]
    next_cursor = encode_cursor("position", page[-1]["position"], page[-1]["_id"]) if len(in_order) > limit else None
    return {"stage": stage, "cards": page, "next_cursor": next_cursor, "count": len(docs),
            "totals": {currency: str(total) for currency, total in sorted(totals.items())}}


def _place(doc: dict) -> tuple[str, str]:
    return doc["position"], doc["_id"]


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
