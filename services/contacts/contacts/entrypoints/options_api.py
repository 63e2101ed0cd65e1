"""Option lists (`/v1/options/{functions|departments|countries}`). Views load, call a handler, dump."""
from __future__ import annotations

from flask import Blueprint, url_for
from marshmallow import Schema, fields, validate

from crm_platform.http_schemas import StrictSchema
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts import views
from contacts.domain import commands
from contacts.domain.keys import MAX_NAME
from contacts.domain.option_lists import KINDS, MAX_OPTIONS, OptionList, check_kind
from contacts.entrypoints import caught_up
from contacts.service_layer import item_reads

bp = Blueprint("options", __name__, url_prefix="/v1/options/<kind>")
TAGS = ["option lists"]
NAME = validate.Length(min=1, max=MAX_NAME)
KIND_HELP = f"one of {', '.join(KINDS)}"


class OptionCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=NAME)
    key = fields.String(load_default=None, validate=validate.Length(min=1, max=64), metadata={
        "description": "immutable; derived from the name when omitted; for countries the ISO 3166-1 alpha-2 code"})


class OptionRenameSchema(StrictSchema):
    name = fields.String(required=True, validate=NAME)


class OptionOrderSchema(StrictSchema):
    keys = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                       validate=validate.Length(max=MAX_OPTIONS), metadata={"description": "every key, in the new order"})


class OptionSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    position = fields.Integer(required=True)


class OptionListSchema(Schema):
    kind = fields.String(required=True)
    items = fields.List(fields.Nested(OptionSchema), required=True)


def _url(kind: str, key: str) -> str:
    return url_for("options.get_option", kind=kind, key=key)


def _list_body(option_list: OptionList) -> dict:
    return {"kind": option_list.kind, "items": option_list.as_list()}


@bp.get("")
@operation(f"List an option list in its order ({KIND_HELP})", tags=TAGS, responses={200: OptionListSchema},
           problems=(404,))
def list_options(kind: str):
    kind = check_kind(kind)
    return {"kind": kind, "items": views.options_of(caught_up.option_list(account_id(), kind), kind)}


@bp.post("")
@operation(f"Add an option at the end of a list (at most {MAX_OPTIONS})", tags=TAGS, request_schema=OptionCreateSchema,
           responses={201: OptionSchema}, problems=(404, 409, 415, 422))
def add_option(kind: str):
    data = OptionCreateSchema().load(json_body())
    option_list, key = current_container().bus.handle(
        commands.AddOption(account_id(), check_kind(kind), data["name"], data["key"]))
    return next(o for o in option_list.as_list() if o["key"] == key), 201, {"Location": _url(kind, key)}


@bp.put("/order")
@operation("Reorder a list: give every key once, in the new order", tags=TAGS, request_schema=OptionOrderSchema,
           responses={200: OptionListSchema}, problems=(404, 415, 422))
def reorder_options(kind: str):
    data = OptionOrderSchema().load(json_body())
    option_list = current_container().bus.handle(commands.ReorderOptions(account_id(), check_kind(kind), data["keys"]))
    return _list_body(option_list)


@bp.patch("/<key>")
@operation("Rename an option; every contact using it shows the new name (they hold its key)", tags=TAGS,
           request_schema=OptionRenameSchema, responses={200: OptionSchema}, problems=(404, 415, 422))
def rename_option(kind: str, key: str):
    data = OptionRenameSchema().load(json_body())
    option_list = current_container().bus.handle(commands.RenameOption(account_id(), check_kind(kind), key, data["name"]))
    return next(o for o in option_list.as_list() if o["key"] == key), 200, {"Content-Location": _url(kind, key)}


@bp.get("/<key>")
@operation("Read one option of a list", tags=TAGS, responses={200: OptionSchema}, problems=(404,))
def get_option(kind: str, key: str):
    return item_reads.option(current_container().unit_of_work(), account_id(), check_kind(kind), key)


@bp.delete("/<key>")
@operation("Delete an option; it is then taken off every contact using it", tags=TAGS, responses={204: None},
           problems=(404,))
def remove_option(kind: str, key: str):
    current_container().bus.handle(commands.RemoveOption(account_id(), check_kind(kind), key))
    return "", 204
