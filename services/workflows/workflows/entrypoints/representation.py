"""What the API shows of boards and cards, from an aggregate or a read-model document."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from workflows.domain.boards import Board
from workflows.domain.cards import OPEN, Card, CardState
from workflows.views import DEFAULT_ZONE, today_in_account

CARD_FIELDS = tuple(name for name in CardState.__dataclass_fields__ if name not in ("card_id", "account_id"))


def board_view(board: Board) -> dict:
    return {"id": board.id, "revision": board.revision, "name": board.name, "stages": board.stages,
            "won_label": board.won_label, "lost_label": board.lost_label}


def board_view_of_document(doc: dict) -> dict:
    return {"id": doc["_id"], "revision": doc["version"], "name": doc["name"], "stages": doc["stages"],
            "won_label": doc["won_label"], "lost_label": doc["lost_label"]}


def card_view(card: Card, zone: ZoneInfo = DEFAULT_ZONE) -> dict:
    return _with_overdue({"id": card.id, "revision": card.revision,
                          **{name: getattr(card.state, name) for name in CARD_FIELDS}}, zone)


def card_view_of_document(doc: dict, zone: ZoneInfo = DEFAULT_ZONE) -> dict:
    return _with_overdue({"id": doc["_id"], "revision": doc["version"], **{name: doc.get(name) for name in CARD_FIELDS}},
                         zone)


def _with_overdue(view: dict, zone: ZoneInfo) -> dict:
    """Overdue: open and past its due date in the account's time zone."""
    today = today_in_account(datetime.now(timezone.utc), zone).isoformat()
    return {**view, "overdue": view["status"] == OPEN and view["due_on"] is not None and view["due_on"] < today}
