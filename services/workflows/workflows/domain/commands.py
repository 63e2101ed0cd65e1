"""Commands to the workflows service (imperative): what a caller asks for."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CreateBoard:
    account_id: str
    name: str
    stage_names: tuple[str, ...]
    won_label: str
    lost_label: str


@dataclass(frozen=True)
class RenameBoard:
    account_id: str
    board_id: str
    name: str | None = None
    won_label: str | None = None
    lost_label: str | None = None


@dataclass(frozen=True)
class AddStage:
    account_id: str
    board_id: str
    name: str
    stale_after_days: int | None = None
    index: int | None = None  # where among the stages (default: last)


@dataclass(frozen=True)
class ChangeStage:
    account_id: str
    board_id: str
    stage_id: str
    name: str | None = None
    stale_after_days: int | None = None
    clear_stale_after: bool = False


@dataclass(frozen=True)
class ReorderStages:
    account_id: str
    board_id: str
    stage_ids: tuple[str, ...]


@dataclass(frozen=True)
class RemoveStage:
    account_id: str
    board_id: str
    stage_id: str
    move_cards_to: str | None = None


@dataclass(frozen=True)
class CreateCard:
    account_id: str
    board_id: str
    stage_id: str | None  # None: the board's first stage
    title: str
    contact_id: str
    description: str = ""
    other_contact_ids: tuple[str, ...] = ()
    value: str | None = None
    currency: str | None = None
    due_on: str | None = None
    linked_document: str | None = None


@dataclass(frozen=True)
class EditCard:
    account_id: str
    card_id: str
    revision: int
    changes: dict = field(default_factory=dict)  # CardState field -> new value


@dataclass(frozen=True)
class MoveCard:
    """Move a card to a stage, between two of its cards (`after`, `before`: card ids; neither: at the end)."""

    account_id: str
    card_id: str
    revision: int
    stage_id: str
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class WinCard:
    account_id: str
    card_id: str
    revision: int | None = None


@dataclass(frozen=True)
class LoseCard:
    account_id: str
    card_id: str
    reason: str | None = None
    revision: int | None = None


@dataclass(frozen=True)
class ArchiveCard:
    account_id: str
    card_id: str
    revision: int | None = None
