"""Saved views (`/v1/saved-views`): a named filter with its sort and columns; apply with GET /v1/contacts?view=<id>."""
from __future__ import annotations

from flask import Blueprint, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from crm_platform.errors import InvalidInput
from crm_platform.http_schemas import StrictSchema
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts import views
from contacts.domain import commands
from contacts.contact_query import typed_conditions
from contacts.entrypoints.schemas import ViewQuerySchema
from contacts.entrypoints import caught_up
from contacts.service_layer import item_reads

bp = Blueprint("saved_views", __name__, url_prefix="/v1/saved-views")
TAGS = ["saved views"]
NAME = validate.Length(min=1, max=100)


class QueryField(fields.Dict):
    """The view's query parameters, as GET /v1/contacts takes them (strings), checked by the same schema."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        if not all(isinstance(v, str) for v in raw.values()):
            raise ValidationError("values are query-string values: strings")
        ViewQuerySchema().load(raw)  # raises with the field-level messages
        return raw


class SavedViewCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=NAME)
    query = QueryField(required=True, metadata={"description": "e.g. {\"labels_any\": \"client\", "
                                                               "\"subscription_status\": \"subscribed\", "
                                                               "\"sort\": \"last_name\", \"fields\": \"first_name,emails\"}"})


class SavedViewChangeSchema(StrictSchema):
    openapi_constraints = {"anyOf": [{"required": ["name"], "properties": {"name": {"type": "string"}}},
                                     {"required": ["query"], "properties": {"query": {"type": "object"}}}]}
    name = fields.String(load_default=None, validate=NAME)
    query = QueryField(load_default=None)

    @validates_schema
    def _something(self, data, **_):
        if data.get("name") is None and data.get("query") is None:
            raise ValidationError("give a name, a query or both", "_schema")


class SavedViewSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    name = fields.String(required=True)
    query = fields.Dict(required=True)


class SavedViewListSchema(Schema):
    items = fields.List(fields.Nested(SavedViewSchema), required=True)


def _view(view) -> dict:
    return {"id": view.id, "revision": view.revision, "name": view.name, "query": view.query}


def _url(view_id: str) -> str:
    return url_for("saved_views.get_saved_view", view_id=view_id)


@bp.get("")
@operation("List saved views", tags=TAGS, responses={200: SavedViewListSchema})
def list_saved_views():
    caught_up.saved_views(account_id())
    return {"items": views.list_saved_views(current_container().saved_views_projection.collection, account_id())}


@bp.post("")
@operation("Save a view (filter, sort, columns)", tags=TAGS, request_schema=SavedViewCreateSchema,
           responses={201: SavedViewSchema}, problems=(415, 422))
def create_saved_view():
    data = SavedViewCreateSchema().load(json_body())
    _check_custom_conditions(data["query"])
    view = current_container().bus.handle(commands.CreateSavedView(account_id(), data["name"], data["query"]))
    return _view(view), 201, {"Location": _url(view.id)}


@bp.patch("/<view_id>")
@operation("Rename a saved view and/or replace its query", tags=TAGS, request_schema=SavedViewChangeSchema,
           responses={200: SavedViewSchema}, problems=(404, 415, 422))
def change_saved_view(view_id: str):
    data = SavedViewChangeSchema().load(json_body())
    _check_custom_conditions(data["query"])
    view = current_container().bus.handle(commands.ChangeSavedView(account_id(), view_id, **data))
    return _view(view), 200, {"Content-Location": _url(view_id)}


@bp.get("/<view_id>")
@operation("Read a saved view", tags=TAGS, responses={200: SavedViewSchema}, problems=(404,))
def get_saved_view(view_id: str):
    return _view(item_reads.saved_view(current_container().unit_of_work(), account_id(), view_id))


def _check_custom_conditions(query: dict | None) -> None:
    """Custom field conditions typed as a list would type them, so a view that cannot run is refused when saved."""
    conditions = ViewQuerySchema().load(query)["custom_conditions"] if query else []
    if conditions:
        types = views.custom_field_types(current_container().custom_fields_projection.collection, account_id())
        try:
            typed_conditions(conditions, types)
        except InvalidInput as exc:
            raise InvalidInput("the view's custom field conditions are invalid", errors={"query": exc.errors}) from None


@bp.delete("/<view_id>")
@operation("Delete a saved view", tags=TAGS, responses={204: None}, problems=(404,))
def delete_saved_view(view_id: str):
    current_container().bus.handle(commands.DeleteSavedView(account_id(), view_id))
    return "", 204
