"""Custom field definitions (`/v1/custom-fields`). Views load, call a handler, dump."""
from __future__ import annotations

from flask import Blueprint, url_for
from marshmallow import Schema, fields, validate

from crm_platform.http_schemas import StrictSchema
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts import views
from contacts.domain import commands
from contacts.domain.custom_fields import MAX_FIELDS, TYPES
from contacts.domain.keys import KEY_PATTERN
from contacts.entrypoints import caught_up
from contacts.service_layer import item_reads

bp = Blueprint("custom_fields", __name__, url_prefix="/v1/custom-fields")
TAGS = ["custom fields"]


class CustomFieldCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    key = fields.String(load_default=None, validate=validate.Regexp(KEY_PATTERN),
                        metadata={"description": "immutable; derived from the name when omitted"})


class CustomFieldRenameSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class CustomFieldSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)


class CustomFieldListSchema(Schema):
    items = fields.List(fields.Nested(CustomFieldSchema), required=True)


def _definition(field_set, key: str) -> dict:
    return {"key": key, **field_set.fields[key]}


def _url(key: str) -> str:
    return url_for("custom_fields.get_custom_field", key=key)


@bp.get("")
@operation("List the account's custom fields", tags=TAGS, responses={200: CustomFieldListSchema})
def list_custom_fields():
    caught_up.custom_fields(account_id())
    return {"items": views.list_custom_fields(current_container().custom_fields_projection.collection, account_id())}


@bp.post("")
@operation(f"Define a custom field (at most {MAX_FIELDS})", tags=TAGS, request_schema=CustomFieldCreateSchema,
           responses={201: CustomFieldSchema}, problems=(409, 415, 422))
def add_custom_field():
    data = CustomFieldCreateSchema().load(json_body())
    field_set, key = current_container().bus.handle(
        commands.AddCustomField(account_id(), data["name"], data["type"], data["key"]))
    return _definition(field_set, key), 201, {"Location": _url(key)}


@bp.get("/<key>")
@operation("Read a custom field's definition", tags=TAGS, responses={200: CustomFieldSchema}, problems=(404,))
def get_custom_field(key: str):
    return _definition(item_reads.custom_field(current_container().unit_of_work(), account_id(), key), key)


@bp.patch("/<key>")
@operation("Rename a custom field (its key and values stay)", tags=TAGS, request_schema=CustomFieldRenameSchema,
           responses={200: CustomFieldSchema}, problems=(404, 415, 422))
def rename_custom_field(key: str):
    data = CustomFieldRenameSchema().load(json_body())
    field_set = current_container().bus.handle(commands.RenameCustomField(account_id(), key, data["name"]))
    return _definition(field_set, key), 200, {"Content-Location": _url(key)}


@bp.delete("/<key>")
@operation("Remove a custom field; its values are removed from every contact", tags=TAGS, responses={204: None},
           problems=(404,))
def remove_custom_field(key: str):
    current_container().bus.handle(commands.RemoveCustomField(account_id(), key))
    return "", 204
