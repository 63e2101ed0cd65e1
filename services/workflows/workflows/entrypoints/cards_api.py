"""/v1/cards: cards on boards, their moves and outcomes. Views load, send a command, dump."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, request, url_for

from crm_platform.openapi import operation
from crm_platform.revisions import etag
from crm_platform.web import account_id, current_container, json_body

from workflows import views
from workflows.domain.commands import ArchiveCard, CreateCard, EditCard, LoseCard, MoveCard, WinCard
from workflows.entrypoints import schemas
from workflows.entrypoints.account_time import account_zone
from workflows.entrypoints.representation import card_view, card_view_of_document

bp = Blueprint("cards", __name__, url_prefix="/v1/cards")
TAGS = ["cards"]


@bp.post("")
@operation("Create a card (at the end of its stage; default: the board's first)", tags=TAGS,
           request_schema=schemas.CardCreateSchema, responses={201: schemas.CardSchema}, problems=(409, 415, 422))
def create_card():
    data = schemas.CardCreateSchema().load(json_body())
    due_on = data.pop("due_on", None)
    card = current_container().bus.handle(CreateCard(
        account_id(), data.pop("board_id"), data.pop("stage_id"), data.pop("title"), data.pop("contact_id"),
        other_contact_ids=tuple(data.pop("other_contact_ids", ())), due_on=due_on and due_on.isoformat(), **data))
    return _answer(card, 201)


@bp.get("")
@operation("The account's cards, newest first, filtered", tags=TAGS, query_schema=schemas.CardQuerySchema,
           responses={200: schemas.CardPageSchema}, problems=(422,))
def list_cards():
    query = schemas.CardQuerySchema().load(request.args.to_dict())
    container, zone = current_container(), account_zone()
    docs, next_cursor = views.cards_page(container.cards_projection.collection,
                                         container.boards_projection.collection, account_id(), query,
                                         datetime.now(timezone.utc), query["limit"], query["cursor"], zone)
    return {"items": [card_view_of_document(doc, zone) for doc in docs], "next_cursor": next_cursor}


@bp.get("/<card_id>")
@operation("A card", tags=TAGS, responses={200: schemas.CardSchema}, problems=(404,))
def get_card(card_id: str):
    with current_container().unit_of_work() as uow:
        card = uow.cards.get(account_id(), card_id)
    return card_view(card, account_zone()), 200, etag(card.revision)


@bp.patch("/<card_id>")
@operation("Change a card's title, description, contacts, value, due date or linked document", tags=TAGS,
           request_schema=schemas.CardPatchSchema, responses={200: schemas.CardSchema},
           problems=(404, 409, 415, 422))
def edit_card(card_id: str):
    data = schemas.CardPatchSchema().load(json_body())
    revision = data.pop("revision")
    if data.get("due_on") is not None:
        data["due_on"] = data["due_on"].isoformat()
    return _answer(current_container().bus.handle(EditCard(account_id(), card_id, revision, data)))


@bp.post("/<card_id>/move")
@operation("Move a card to a stage, between two of its cards (after, before: card ids; neither: at the end)",
           tags=TAGS, request_schema=schemas.CardMoveSchema, responses={200: schemas.CardSchema},
           problems=(404, 409, 415, 422))
def move_card(card_id: str):
    data = schemas.CardMoveSchema().load(json_body())
    return _answer(current_container().bus.handle(MoveCard(account_id(), card_id, **data)))


@bp.post("/<card_id>/won")
@operation("Mark a card won", tags=TAGS, request_schema=schemas.CardOutcomeSchema,
           responses={200: schemas.CardSchema}, problems=(404, 409, 415, 422))
def win_card(card_id: str):
    data = schemas.CardOutcomeSchema().load(_optional_body())
    return _answer(current_container().bus.handle(WinCard(account_id(), card_id, data["revision"])))


@bp.post("/<card_id>/lost")
@operation("Mark a card lost, with a reason", tags=TAGS, request_schema=schemas.CardLostSchema,
           responses={200: schemas.CardSchema}, problems=(404, 409, 415, 422))
def lose_card(card_id: str):
    data = schemas.CardLostSchema().load(_optional_body())
    card = current_container().bus.handle(LoseCard(account_id(), card_id, data["reason"], data["revision"]))
    return _answer(card)


@bp.post("/<card_id>/archive")
@operation("Archive a card", tags=TAGS, request_schema=schemas.CardOutcomeSchema,
           responses={200: schemas.CardSchema}, problems=(404, 409, 415, 422))
def archive_card(card_id: str):
    data = schemas.CardOutcomeSchema().load(_optional_body())
    return _answer(current_container().bus.handle(ArchiveCard(account_id(), card_id, data["revision"])))


def _optional_body() -> dict:
    """The JSON body, or nothing: these actions need no field."""
    return json_body() if request.content_length or request.is_json else {}


def _answer(card, status: int = 200) -> tuple:
    """The card as it is now, with where to read it again (an Idempotency-Key's replay reads it there)."""
    where = url_for("cards.get_card", card_id=card.id)
    place = {"Location": where} if status == 201 else {"Content-Location": where}
    return card_view(card, account_zone()), status, {**place, **etag(card.revision)}
