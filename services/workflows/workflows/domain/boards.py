"""Boards: ordered stages cards go through, and a done state with two outcomes (won, lost).

Every board event carries the board's whole state after the change (a board is
small), so a read model is the latest event alone.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import Conflict, InvalidInput, NotFound

MAX_STAGES = 30
MAX_NAME_LENGTH = 200
DEFAULT_BOARD_NAME = "Pipeline commercial"
DEFAULT_STAGES = ("Nouveau", "Contacté", "Proposition", "Négociation")
DEFAULT_WON_LABEL, DEFAULT_LOST_LABEL = "Gagné", "Perdu"


class BoardNotFound(NotFound):
    def __init__(self, board_id: str) -> None:
        super().__init__(f"board {board_id} does not exist in this account", board_id=board_id)


class StageNotFound(NotFound):
    def __init__(self, stage_id: str) -> None:
        super().__init__(f"stage {stage_id} is not a stage of this board", stage_id=stage_id)


def default_board_id(account_id: str) -> str:
    """The id of the board a new account starts with: known in advance, so setting it up twice finds it."""
    return f"board:default:{account_id}"


class BoardEvent(DomainEvent):
    aggregate_id_field = "board_id"


@dataclass(frozen=True)
class BoardState(BoardEvent):
    board_id: str
    account_id: str
    name: str
    stages: list  # [{"id", "name", "stale_after_days"}], in order
    won_label: str
    lost_label: str


@dataclass(frozen=True)
class BoardCreated(BoardState):
    pass


@dataclass(frozen=True)
class BoardRenamed(BoardState):
    """Its name or its outcomes' labels changed."""


@dataclass(frozen=True)
class StageAdded(BoardState):
    stage_id: str


@dataclass(frozen=True)
class StageChanged(BoardState):
    """A stage's name or days before its cards are stale changed."""

    stage_id: str


@dataclass(frozen=True)
class StagesReordered(BoardState):
    pass


@dataclass(frozen=True)
class StageRemoved(BoardState):
    stage_id: str
    cards_moved_to: str | None = None  # the stage its cards were moved to, when it held some


def _name(value: str, field: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidInput(f"{field} must not be blank", errors={field: ["must not be blank"]})
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{field} is too long", errors={field: [f"at most {MAX_NAME_LENGTH} characters"]})
    return value


def _stage(name: str, stale_after_days: int | None = None, field: str = "name") -> dict:
    return {"id": f"stage:{uuid.uuid4()}", "name": _name(name, field), "stale_after_days": stale_after_days}


class Board(Aggregate):
    aggregate_type = "Board"
    event_classes = (BoardCreated, BoardRenamed, StageAdded, StageChanged, StagesReordered, StageRemoved)
    not_found_error = BoardNotFound
    latest_event_is_state = True

    def __init__(self, board_id: str, account_id: str) -> None:
        super().__init__(board_id, account_id)
        self.name, self.won_label, self.lost_label = "", DEFAULT_WON_LABEL, DEFAULT_LOST_LABEL
        self.stages: list[dict] = []

    @classmethod
    def create(cls, account_id: str, name: str, stage_names: tuple[str, ...] = DEFAULT_STAGES,
               won_label: str = DEFAULT_WON_LABEL, lost_label: str = DEFAULT_LOST_LABEL,
               board_id: str | None = None) -> "Board":
        if not stage_names or len(stage_names) > MAX_STAGES:
            raise InvalidInput("a board has 1 to 30 stages", errors={"stages": [f"between 1 and {MAX_STAGES} stages"]})
        board = cls(board_id or f"board:{uuid.uuid4()}", account_id)
        stages = [_stage(stage_name, field="stages") for stage_name in stage_names]
        board._record(BoardCreated(board.id, account_id, _name(name, "name"), stages,
                                   _name(won_label, "won_label"), _name(lost_label, "lost_label")))
        return board

    def stage(self, stage_id: str, field: str | None = None) -> dict:
        """The stage; a 404 for a stage named in the path, a 422 naming `field` for one named in the body."""
        for stage in self.stages:
            if stage["id"] == stage_id:
                return stage
        if field is None:
            raise StageNotFound(stage_id)
        raise InvalidInput(f"{field} is not a stage of board {self.id}", errors={field: ["not a stage of this board"]})

    def rename(self, name: str | None, won_label: str | None, lost_label: str | None) -> None:
        changed = (_name(name, "name") if name is not None else self.name,
                   _name(won_label, "won_label") if won_label is not None else self.won_label,
                   _name(lost_label, "lost_label") if lost_label is not None else self.lost_label)
        if changed != (self.name, self.won_label, self.lost_label):
            self._record(BoardRenamed(self.id, self.account_id, changed[0], self._stages(), changed[1], changed[2]))

    def add_stage(self, name: str, stale_after_days: int | None = None, index: int | None = None) -> dict:
        if len(self.stages) >= MAX_STAGES:
            raise InvalidInput("this board has as many stages as it may", errors={"name": [f"at most {MAX_STAGES} stages"]})
        stage = _stage(name, stale_after_days)
        stages = self._stages()
        stages.insert(len(stages) if index is None else index, stage)
        self._record(StageAdded(self.id, self.account_id, self.name, stages, self.won_label, self.lost_label, stage["id"]))
        return stage

    def change_stage(self, stage_id: str, name: str | None, stale_after_days: int | None, clear_stale_after: bool) -> None:
        current = self.stage(stage_id)
        wanted = {**current, "name": _name(name, "name") if name is not None else current["name"],
                  "stale_after_days": None if clear_stale_after else (stale_after_days or current["stale_after_days"])}
        if wanted != current:
            stages = [wanted if stage["id"] == stage_id else dict(stage) for stage in self.stages]
            self._record(StageChanged(self.id, self.account_id, self.name, stages, self.won_label, self.lost_label,
                                      stage_id))

    def reorder_stages(self, stage_ids: list[str]) -> None:
        if sorted(stage_ids) != sorted(stage["id"] for stage in self.stages):
            raise InvalidInput("stage_ids must name every stage of the board once",
                               errors={"stage_ids": ["every stage of the board, each once"]})
        if stage_ids != [stage["id"] for stage in self.stages]:
            stages = [dict(self.stage(stage_id)) for stage_id in stage_ids]
            self._record(StagesReordered(self.id, self.account_id, self.name, stages, self.won_label, self.lost_label))

    def remove_stage(self, stage_id: str, holds_cards: bool, move_cards_to: str | None) -> None:
        """Remove a stage; one that holds cards needs another stage to move them to (`move_cards_to`)."""
        self.stage(stage_id)
        if len(self.stages) == 1:
            raise Conflict("a board keeps at least one stage", stage_id=stage_id)
        if move_cards_to == stage_id:
            raise InvalidInput("move_cards_to must be another stage", errors={"move_cards_to": ["another stage of this board"]})
        if move_cards_to is not None:
            self.stage(move_cards_to, "move_cards_to")
        if holds_cards and move_cards_to is None:
            raise InvalidInput("this stage holds cards: say which stage they move to",
                               errors={"move_cards_to": ["required: the stage holds cards"]})
        stages = [dict(stage) for stage in self.stages if stage["id"] != stage_id]
        self._record(StageRemoved(self.id, self.account_id, self.name, stages, self.won_label, self.lost_label,
                                  stage_id, move_cards_to if holds_cards else None))

    def _stages(self) -> list[dict]:
        return [dict(stage) for stage in self.stages]

    def _apply(self, event: BoardState) -> None:
        self.name, self.won_label, self.lost_label = event.name, event.won_label, event.lost_label
        self.stages = [dict(stage) for stage in event.stages]
