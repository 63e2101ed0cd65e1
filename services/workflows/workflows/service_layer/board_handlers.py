"""Handlers of board commands, and the board every new account starts with."""
from __future__ import annotations

from typing import Callable

from crm_platform.contracts.accounts import AccountCreated

from workflows.domain.boards import DEFAULT_BOARD_NAME, Board, StageRemoved, default_board_id
from workflows.domain.commands import AddStage, ChangeStage, CreateBoard, RemoveStage, RenameBoard, ReorderStages
from workflows.service_layer.placing import keys_at_the_end
from workflows.service_layer.ports import CardsIndex
from workflows.service_layer.unit_of_work import UnitOfWork


def create_board(cmd: CreateBoard, uow: UnitOfWork) -> Board:
    with uow:
        board = Board.create(cmd.account_id, cmd.name, cmd.stage_names, cmd.won_label, cmd.lost_label)
        uow.boards.add(board)
        uow.commit()
    return board


def rename_board(cmd: RenameBoard, uow: UnitOfWork) -> Board:
    with uow:
        board = uow.boards.get(cmd.account_id, cmd.board_id)
        board.rename(cmd.name, cmd.won_label, cmd.lost_label)
        uow.commit()
    return board


def add_stage(cmd: AddStage, uow: UnitOfWork) -> Board:
    with uow:
        board = uow.boards.get(cmd.account_id, cmd.board_id)
        board.add_stage(cmd.name, cmd.stale_after_days, cmd.index)
        uow.commit()
    return board


def change_stage(cmd: ChangeStage, uow: UnitOfWork) -> Board:
    with uow:
        board = uow.boards.get(cmd.account_id, cmd.board_id)
        board.change_stage(cmd.stage_id, cmd.name, cmd.stale_after_days, cmd.clear_stale_after)
        uow.commit()
    return board


def reorder_stages(cmd: ReorderStages, uow: UnitOfWork) -> Board:
    with uow:
        board = uow.boards.get(cmd.account_id, cmd.board_id)
        board.reorder_stages(list(cmd.stage_ids))
        uow.commit()
    return board


def remove_stage(cmd: RemoveStage, uow: UnitOfWork, cards: CardsIndex, clock: Callable[[], str]) -> Board:
    """Remove a stage; its open cards go, in their order, after the last card of `move_cards_to`."""
    with uow:
        board = uow.boards.get(cmd.account_id, cmd.board_id)
        held = cards.ordered_ids(cmd.account_id, cmd.stage_id)
        board.remove_stage(cmd.stage_id, bool(held), cmd.move_cards_to)
        if held:
            _move_all(cmd.account_id, held, cmd.stage_id, cmd.move_cards_to, uow, cards, clock())
        uow.commit()
    return board


def move_cards_off_removed_stage(event: StageRemoved, uow: UnitOfWork, cards: CardsIndex,
                                 clock: Callable[[], str]) -> None:
    """Cards the read model had not shown yet when their stage was removed follow the others (or go to the
    first stage); idempotent: cards already moved are in another stage."""
    with uow:
        held = cards.ordered_ids(event.account_id, event.stage_id)
        if held:
            target = event.cards_moved_to or event.stages[0]["id"]
            _move_all(event.account_id, held, event.stage_id, target, uow, cards, clock())
            uow.commit()


def _move_all(account_id: str, card_ids: list[str], stage_id: str, target_id: str, uow: UnitOfWork,
              cards: CardsIndex, now: str) -> None:
    for card_id, key in zip(card_ids, keys_at_the_end(account_id, target_id, len(card_ids), uow, cards)):
        card = uow.cards.find(account_id, card_id)
        if card is not None and card.stage_id == stage_id and card.status == "open":
            card.move(target_id, key, now)


def give_new_account_its_default_board(event: AccountCreated, uow: UnitOfWork) -> None:
    """Idempotent: the board's id comes from the account, so a re-delivered event finds it there."""
    board_id = default_board_id(event.account_id)
    with uow:
        if not uow.boards.ever_existed(board_id):
            uow.boards.add(Board.create(event.account_id, DEFAULT_BOARD_NAME, board_id=board_id))
            uow.commit()
