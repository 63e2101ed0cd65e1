"""Label endpoints (`/v1/labels`) and label assignment on contacts. Views load, call a handler, dump."""
from __future__ import annotations

from flask import Blueprint, request, url_for
from marshmallow import Schema, fields, validate

from crm_platform.http_schemas import Rfc3339DateTime, StrictSchema
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts import views
from contacts.domain import commands
from contacts.domain.labels import KEY_PATTERN
from contacts.entrypoints.representation import contact_from_aggregate
from contacts.entrypoints.schemas import AS_OF_ANSWER, AS_OF_QUERY, ContactSchema
from contacts.entrypoints import caught_up
from contacts.service_layer import item_reads, past_reads

bp = Blueprint("labels", __name__)
TAGS = ["labels"]


class LabelCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    key = fields.String(load_default=None, validate=validate.Regexp(KEY_PATTERN),
                        metadata={"description": "immutable; derived from the name when omitted"})


class LabelNameSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class LabelSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)


class LabelListSchema(Schema):
    items = fields.List(fields.Nested(LabelSchema), required=True)
    as_of = fields.String(metadata={"format": "date-time", "description": AS_OF_ANSWER})


def _label(label) -> dict:
    return {"key": label.key, "name": label.name}


def _url(key: str) -> str:
    return url_for("labels.get_label", key=key)


class LabelListQuerySchema(StrictSchema):
    as_of = Rfc3339DateTime(load_default=None, metadata={"description": AS_OF_QUERY})


@bp.get("/v1/labels")
@operation("List the account's labels; with `as_of`, those it had at that moment, with the names they had then",
           tags=TAGS, query_schema=LabelListQuerySchema, responses={200: LabelListSchema}, problems=(422,))
def list_labels():
    container = current_container()
    if (moment := LabelListQuerySchema().load(request.args.to_dict())["as_of"]) is not None:
        labels = past_reads.labels_as_of(container.unit_of_work(), account_id(), moment)
        return {"items": [_label(label) for label in labels], "as_of": moment.isoformat(timespec="microseconds")}
    caught_up.labels(account_id())
    return {"items": views.list_labels(container.labels_projection.collection,
                                       container.label_order_projection.collection, account_id())}


class LabelOrderSchema(StrictSchema):
    keys = fields.List(fields.String(validate=validate.Regexp(KEY_PATTERN)), required=True,
                       validate=validate.Length(max=500),
                       metadata={"description": "label keys in the order to list them; the others follow by name"})


@bp.put("/v1/labels/order")
@operation("Reorder the labels (categories)", tags=TAGS, request_schema=LabelOrderSchema,
           responses={200: LabelOrderSchema}, problems=(415, 422))
def reorder_labels():
    data = LabelOrderSchema().load(json_body())
    keys = current_container().bus.handle(commands.ReorderLabels(account_id(), data["keys"]))
    return {"keys": keys}


@bp.post("/v1/labels")
@operation("Create a label", tags=TAGS, request_schema=LabelCreateSchema, responses={201: LabelSchema},
           problems=(409, 415, 422))
def create_label():
    data = LabelCreateSchema().load(json_body())
    label = current_container().bus.handle(commands.CreateLabel(account_id(), **data))
    return _label(label), 201, {"Location": _url(label.key)}


@bp.get("/v1/labels/<key>")
@operation("Read a label", tags=TAGS, responses={200: LabelSchema}, problems=(404,))
def get_label(key: str):
    return _label(item_reads.label(current_container().unit_of_work(), account_id(), key))


@bp.post("/v1/labels/find-or-create")
@operation("The label with this name (any case), created if there is none", tags=TAGS,
           request_schema=LabelNameSchema, responses={200: LabelSchema}, problems=(415, 422))
def find_or_create_label():
    data = LabelNameSchema().load(json_body())
    label = current_container().bus.handle(commands.FindOrCreateLabel(account_id(), data["name"]))
    return _label(label), 200, {"Content-Location": _url(label.key)}


@bp.patch("/v1/labels/<key>")
@operation("Rename a label (its key stays)", tags=TAGS, request_schema=LabelNameSchema,
           responses={200: LabelSchema}, problems=(404, 415, 422))
def rename_label(key: str):
    data = LabelNameSchema().load(json_body())
    label = current_container().bus.handle(commands.RenameLabel(account_id(), key, data["name"]))
    return _label(label), 200, {"Content-Location": _url(key)}


@bp.delete("/v1/labels/<key>")
@operation("Delete a label; it is taken off every contact", tags=TAGS, responses={204: None}, problems=(404,))
def delete_label(key: str):
    current_container().bus.handle(commands.DeleteLabel(account_id(), key))
    return "", 204


@bp.put("/v1/contacts/<contact_id>/labels/<key>")
@operation("Give a contact a label", tags=TAGS, responses={200: ContactSchema}, problems=(404, 409))
def assign_label(contact_id: str, key: str):
    cmd = commands.AssignLabel(account_id(), contact_id, key)
    return contact_from_aggregate(current_container().bus.handle(cmd))


@bp.delete("/v1/contacts/<contact_id>/labels/<key>")
@operation("Take a label off a contact", tags=TAGS, responses={200: ContactSchema}, problems=(404, 409))
def unassign_label(contact_id: str, key: str):
    cmd = commands.UnassignLabel(account_id(), contact_id, key)
    return contact_from_aggregate(current_container().bus.handle(cmd))
