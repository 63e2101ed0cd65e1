"""/v1/boards: boards, their stages, and their columns of cards. Views load, send a command, dump."""
from __future__ import annotations

from flask import Blueprint, request, url_for

from crm_platform.http_schemas import PageQuerySchema
from crm_platform.openapi import operation
from crm_platform.revisions import etag
from crm_platform.web import account_id, current_container, json_body

from workflows import views
from workflows.domain.commands import AddStage, ChangeStage, CreateBoard, RemoveStage, RenameBoard, ReorderStages
from workflows.entrypoints import schemas
from workflows.entrypoints.account_time import account_zone
from workflows.entrypoints.representation import board_view, board_view_of_document, card_view_of_document

bp = Blueprint("boards", __name__, url_prefix="/v1/boards")
TAGS = ["boards"]


@bp.post("")
@operation("Create a board", tags=TAGS, request_schema=schemas.BoardCreateSchema,
           responses={201: schemas.BoardSchema}, problems=(415, 422))
def create_board():
    data = schemas.BoardCreateSchema().load(json_body())
    board = current_container().bus.handle(CreateBoard(account_id(), data["name"], tuple(data["stages"]),
                                                       data["won_label"], data["lost_label"]))
    return _answer(board, 201, created=True)


@bp.get("")
@operation("The account's boards, by name", tags=TAGS, query_schema=PageQuerySchema,
           responses={200: schemas.BoardPageSchema}, problems=(422,))
def list_boards():
    page = PageQuerySchema().load(request.args.to_dict())
    docs, next_cursor = views.boards_page(current_container().boards_projection.collection, account_id(),
                                          page["limit"], page["cursor"])
    return {"items": [board_view_of_document(doc) for doc in docs], "next_cursor": next_cursor}


@bp.get("/<board_id>")
@operation("A board with its stages", tags=TAGS, responses={200: schemas.BoardSchema}, problems=(404,))
def get_board(board_id: str):
    board = _board(board_id)
    return board_view(board), 200, etag(board.revision)


@bp.patch("/<board_id>")
@operation("Rename a board or its outcomes", tags=TAGS, request_schema=schemas.BoardPatchSchema,
           responses={200: schemas.BoardSchema}, problems=(404, 409, 415, 422))
def rename_board(board_id: str):
    data = schemas.BoardPatchSchema().load(json_body())
    return _answer(current_container().bus.handle(RenameBoard(account_id(), board_id, **data)))


@bp.post("/<board_id>/stages")
@operation("Add a stage", tags=TAGS, request_schema=schemas.StageCreateSchema, responses={201: schemas.BoardSchema},
           problems=(404, 409, 415, 422))
def add_stage(board_id: str):
    data = schemas.StageCreateSchema().load(json_body())
    return _answer(current_container().bus.handle(AddStage(account_id(), board_id, **data)), 201)


@bp.patch("/<board_id>/stages/<other_than(order):stage_id>")
@operation("Rename a stage or set its days before cards are stale", tags=TAGS,
           request_schema=schemas.StagePatchSchema, responses={200: schemas.BoardSchema}, problems=(404, 409, 415, 422))
def change_stage(board_id: str, stage_id: str):
    data = schemas.StagePatchSchema().load(json_body())
    clear = "stale_after_days" in data and data["stale_after_days"] is None
    return _answer(current_container().bus.handle(ChangeStage(
        account_id(), board_id, stage_id, data.get("name"), data.get("stale_after_days"), clear)))


@bp.put("/<board_id>/stages/order")
@operation("Reorder the stages", tags=TAGS, request_schema=schemas.StageOrderSchema,
           responses={200: schemas.BoardSchema}, problems=(404, 409, 415, 422))
def reorder_stages(board_id: str):
    data = schemas.StageOrderSchema().load(json_body())
    return _answer(current_container().bus.handle(ReorderStages(account_id(), board_id, tuple(data["stage_ids"]))))


@bp.delete("/<board_id>/stages/<other_than(order):stage_id>")
@operation("Remove a stage (one holding cards needs ?move_cards_to=<stage id>)", tags=TAGS,
           query_schema=schemas.StageRemoveQuerySchema, responses={200: schemas.BoardSchema}, problems=(404, 409, 422))
def remove_stage(board_id: str, stage_id: str):
    query = schemas.StageRemoveQuerySchema().load(request.args.to_dict())
    return _answer(current_container().bus.handle(RemoveStage(account_id(), board_id, stage_id,
                                                                 query["move_cards_to"])))


@bp.get("/<board_id>/columns")
@operation("The board's columns: each stage's open cards in order (a page per stage), count and value totals",
           tags=TAGS, query_schema=schemas.ColumnsQuerySchema, responses={200: schemas.ColumnsSchema},
           problems=(404, 422))
def board_columns(board_id: str):
    query = schemas.ColumnsQuerySchema().load(request.args.to_dict())
    board = _board(board_id)
    stages = board.stages if query["stage_id"] is None else [board.stage(query["stage_id"])]
    cards, zone = current_container().cards_projection.collection, account_zone()
    columns = views.columns(cards, board.account_id, board.id, stages, query["limit"], query["cursor"])
    return {"board": board_view(board), "columns": [
        {**column, "cards": [card_view_of_document(doc, zone) for doc in column["cards"]]} for column in columns]}


def _board(board_id: str):
    with current_container().unit_of_work() as uow:
        return uow.boards.get(account_id(), board_id)



def _answer(board, status: int = 200, created: bool = False) -> tuple:
    """The board as it is now, with where to read it again (an Idempotency-Key's replay reads it there)."""
    where = url_for("boards.get_board", board_id=board.id)
    place = {"Location": where} if created else {"Content-Location": where}
    return board_view(board), status, {**place, **etag(board.revision)}
