"""Handlers of card commands."""
from __future__ import annotations

from typing import Callable

from crm_platform.errors import InvalidInput
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck
from crm_platform.unit_of_work import retried

from workflows.domain.cards import Card
from workflows.domain.commands import ArchiveCard, CreateCard, EditCard, LoseCard, MoveCard, WinCard
from workflows.domain.positions import MAX_KEY_LENGTH, key_between
from workflows.service_layer.placing import Spot, place
from workflows.service_layer.ports import CardsIndex, ContactsDirectory
from workflows.service_layer.unit_of_work import UnitOfWork


def create_card(cmd: CreateCard, uow: UnitOfWork, cards: CardsIndex, contacts: ContactsDirectory,
                clock: Callable[[], str], restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Card:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id, *cmd.other_contact_ids])  # Art. 18
    _check_contacts(cmd.account_id, cmd.contact_id, list(cmd.other_contact_ids), contacts)
    with uow:
        board = uow.boards.find(cmd.account_id, cmd.board_id)
        if board is None:
            raise InvalidInput("board_id is not a board of this account", errors={"board_id": ["no such board"]})
        stage_id = cmd.stage_id or board.stages[0]["id"]
        board.stage(stage_id, "stage_id")
        now = clock()
        last = cards.last_position(cmd.account_id, stage_id)
        card = Card.create(cmd.account_id, board.id, stage_id, key_between(last, None), now, title=cmd.title,
                           description=cmd.description, contact_id=cmd.contact_id,
                           other_contact_ids=list(cmd.other_contact_ids), value=cmd.value, currency=cmd.currency,
                           due_on=cmd.due_on, linked_document=cmd.linked_document)
        if len(card.position) > MAX_KEY_LENGTH:
            place(card, Spot(stage_id), now, uow, cards)  # the stage's keys grew long at its end: respace it
        uow.cards.add(card)
        uow.commit()
    return card


def edit_card(cmd: EditCard, uow: UnitOfWork, contacts: ContactsDirectory, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Card:
    with uow:
        card = uow.cards.get(cmd.account_id, cmd.card_id)
        restrictions.refuse_edits(cmd.account_id, [card.contact_id, *card.other_contact_ids,  # Art. 18
                                                   cmd.changes.get("contact_id"),
                                                   *(cmd.changes.get("other_contact_ids") or ())])
        card.check_revision(cmd.revision)
        if "contact_id" in cmd.changes or "other_contact_ids" in cmd.changes:
            _check_contacts(cmd.account_id, cmd.changes.get("contact_id", card.contact_id),
                            list(cmd.changes.get("other_contact_ids", card.other_contact_ids)), contacts)
        card.edit(cmd.changes)
        uow.commit()
    return card


MOVE_ATTEMPTS = 3


def move_card(cmd: MoveCard, uow: UnitOfWork, cards: CardsIndex, clock: Callable[[], str],
              restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Card:
    """Move a card; when a neighbour it respaces was written meanwhile, read the window again and retry.

    Neighbours are saved before the card (placing.py), each its own commit: a retry, or the client's own
    retry after a failure, finds those already saved on their new keys, in order, and the card on its old
    revision, so the same request (same revision) succeeds. A conflict on the card itself is a 409 when the
    request named a revision.
    """
    return retried(lambda: _move_card_once(cmd, uow, cards, clock, restrictions), MOVE_ATTEMPTS)


def _move_card_once(cmd: MoveCard, uow: UnitOfWork, cards: CardsIndex, clock: Callable[[], str],
                    restrictions: RestrictionCheck) -> Card:
    with uow:
        card = _card_to_change(cmd, uow, restrictions)
        uow.boards.get(cmd.account_id, card.board_id).stage(cmd.stage_id, "stage_id")
        place(card, Spot(cmd.stage_id, cmd.after, cmd.before), clock(), uow, cards)
        uow.commit()
    return card


def win_card(cmd: WinCard, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Card:
    with uow:
        card = _card_to_change(cmd, uow, restrictions)
        card.win()
        uow.commit()
    return card


def lose_card(cmd: LoseCard, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Card:
    with uow:
        card = _card_to_change(cmd, uow, restrictions)
        card.lose(cmd.reason)
        uow.commit()
    return card


def archive_card(cmd: ArchiveCard, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Card:
    with uow:
        card = _card_to_change(cmd, uow, restrictions)
        card.archive()
        uow.commit()
    return card


def _card_to_change(cmd: MoveCard | WinCard | LoseCard | ArchiveCard, uow: UnitOfWork,
                    restrictions: RestrictionCheck) -> Card:
    """The card the command names, at the revision it names; refused while one of its contacts is restricted."""
    card = uow.cards.get(cmd.account_id, cmd.card_id)
    restrictions.refuse_edits(cmd.account_id, [card.contact_id, *card.other_contact_ids])  # Art. 18
    card.check_revision(cmd.revision)
    return card


def _check_contacts(account_id: str, contact_id: str, others: list[str], contacts: ContactsDirectory) -> None:
    unknown = contacts.unknown(account_id, [contact_id, *others])
    errors = {}
    if contact_id in unknown:
        errors["contact_id"] = ["no such contact in this account"]
    if unknown - {contact_id}:
        errors["other_contact_ids"] = [f"no such contact in this account: {', '.join(sorted(unknown - {contact_id}))}"]
    if errors:
        raise InvalidInput("a card links only contacts of this account", errors=errors)
