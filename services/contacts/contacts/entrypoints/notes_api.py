"""Notes on a contact (`/v1/contacts/{id}/notes`). Views load, call a handler, dump."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, request, url_for
from marshmallow import Schema, fields, validate

from crm_platform.http_schemas import StrictSchema
from crm_platform.pagination import decode_cursor, encode_cursor
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts import views
from contacts.domain import commands
from contacts.domain.notes import KINDS, MAX_TEXT
from contacts.entrypoints.schemas import AS_OF_ANSWER, DeleteQuerySchema, NotesAsOfQuerySchema
from contacts.entrypoints import caught_up
from contacts.service_layer import item_reads, past_reads

bp = Blueprint("notes", __name__, url_prefix="/v1/contacts/<contact_id>/notes")
TAGS = ["notes"]
TEXT = validate.Length(min=1, max=MAX_TEXT)


class NoteCreateSchema(StrictSchema):
    kind = fields.String(load_default="note", validate=validate.OneOf(KINDS))
    text = fields.String(required=True, validate=TEXT)


class NoteEditSchema(StrictSchema):
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    text = fields.String(load_default=None, validate=TEXT)


class NoteSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    kind = fields.String(required=True)
    text = fields.String(required=True)
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class NotePageSchema(Schema):
    items = fields.List(fields.Nested(NoteSchema), required=True)
    next_cursor = fields.String(allow_none=True)
    as_of = fields.String(metadata={"format": "date-time", "description": AS_OF_ANSWER})


def _from_aggregate(note) -> dict:
    """The note as its latest event left it; `updated_at` is that event's time, as in the list."""
    changed = item_reads.last_changed_at(current_container().event_store, note.id)
    return {"id": note.id, "revision": note.revision, "kind": note.kind, "text": note.text,
            "created_at": note.created_at, "updated_at": changed.isoformat(timespec="milliseconds") if changed else None}


def _url(contact_id: str, note_id: str) -> str:
    return url_for("notes.get_note", contact_id=contact_id, note_id=note_id)


# its own name in cursors: the live list's "-created_at" cursors carry a naive datetime, which compared as text with
# the notes' "+00:00" ones misorders notes within one millisecond; either list's cursor given to the other is a 422
PAST_NOTES_SORT = "-created_at@as_of"


def _page_of_past_notes(notes: list, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of notes as they were (newest first, as notes_as_of sorts them), after the cursor's note."""
    if cursor:
        created_at, last_id = decode_cursor(cursor, PAST_NOTES_SORT, dated=False)
        notes = [past for past in notes if (past.note.created_at, past.note.id) < (created_at, last_id)]
    page = notes[:limit]
    items = [{"id": past.note.id, "revision": past.note.revision, "kind": past.note.kind, "text": past.note.text,
              "created_at": past.note.created_at or None,
              "updated_at": past.updated_at.isoformat(timespec="milliseconds")} for past in page]
    more = len(notes) > limit
    return items, encode_cursor(PAST_NOTES_SORT, page[-1].note.created_at, page[-1].note.id) if more else None


def _from_view(doc: dict) -> dict:
    return {"id": doc["_id"], "revision": doc["version"], "kind": doc["kind"], "text": doc["text"],
            "created_at": doc["created_at"].isoformat(timespec="milliseconds") if doc.get("created_at") else None,
            "updated_at": doc["updated_at"].isoformat(timespec="milliseconds")}


@bp.get("")
@operation("A contact's notes, newest first; with `as_of`, those it had at that moment, with the text they had then",
           tags=TAGS, query_schema=NotesAsOfQuerySchema, responses={200: NotePageSchema}, problems=(404, 422))
def list_notes(contact_id: str):
    query = NotesAsOfQuerySchema().load(request.args.to_dict())
    container = current_container()
    if (moment := query.pop("as_of")) is not None:
        notes = past_reads.notes_as_of(container.unit_of_work(), account_id(), contact_id, moment,
                                       partial(views.note_ids_of, container.notes_projection.collection))
        items, next_cursor = _page_of_past_notes(notes, **query)
        return {"items": items, "next_cursor": next_cursor, "as_of": moment.isoformat(timespec="microseconds")}
    caught_up.contact(account_id(), contact_id)
    docs, next_cursor = views.contact_items_page(container.notes_projection.collection, account_id(), contact_id,
                                                 **query)
    return {"items": [_from_view(d) for d in docs], "next_cursor": next_cursor}


@bp.post("")
@operation("Add a note, meeting summary or call summary", tags=TAGS, request_schema=NoteCreateSchema,
           responses={201: NoteSchema}, problems=(404, 409, 415, 422))
def add_note(contact_id: str):
    data = NoteCreateSchema().load(json_body())
    note = current_container().bus.handle(commands.AddNote(account_id(), contact_id, data["kind"], data["text"]))
    return _from_aggregate(note), 201, {"Location": _url(contact_id, note.id)}


@bp.get("/<note_id>")
@operation("Read a note", tags=TAGS, responses={200: NoteSchema}, problems=(404,))
def get_note(contact_id: str, note_id: str):
    return _from_aggregate(item_reads.note(current_container().unit_of_work(), account_id(), contact_id, note_id))


@bp.patch("/<note_id>")
@operation("Edit a note (based on its revision)", tags=TAGS, request_schema=NoteEditSchema,
           responses={200: NoteSchema}, problems=(404, 409, 415, 422))
def edit_note(contact_id: str, note_id: str):
    data = NoteEditSchema().load(json_body())
    note = current_container().bus.handle(commands.EditNote(account_id(), contact_id, note_id, **data))
    return _from_aggregate(note), 200, {"Content-Location": _url(contact_id, note_id)}


@bp.delete("/<note_id>")
@operation("Delete a note", tags=TAGS, query_schema=DeleteQuerySchema, responses={204: None}, problems=(404, 409))
def delete_note(contact_id: str, note_id: str):
    query = DeleteQuerySchema().load(request.args.to_dict())
    current_container().bus.handle(commands.DeleteNote(account_id(), contact_id, note_id, query["revision"]))
    return "", 204
