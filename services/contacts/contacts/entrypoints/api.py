"""The contacts HTTP API (internal: only the gateway calls it). Views load, call a handler, dump."""
from __future__ import annotations

from flask import Blueprint, Flask, request, url_for

from crm_platform.jobs_api import jobs_blueprint
from crm_platform.openapi import add_spec_route, operation
from crm_platform.timeline_api import timeline_blueprint
from crm_platform.web import account_id, create_service_app, current_container, json_body

from contacts import config, views
from contacts.contact_query import ContactQuery, find_page, typed_conditions
from contacts.bootstrap import Container
from contacts.domain import commands
from contacts.entrypoints import caught_up, schemas
from contacts.entrypoints.attachments_api import bp as attachments_bp
from contacts.entrypoints.bulk_labels_api import bp as bulk_labels_bp
from contacts.entrypoints.contact_settings_api import bp as contact_settings_bp
from contacts.entrypoints.custom_fields_api import bp as custom_fields_bp
from contacts.entrypoints.exports_api import bp as exports_bp
from contacts.entrypoints.imports_api import bp as imports_bp
from contacts.entrypoints.labels_api import bp as labels_bp
from contacts.entrypoints.messages_api import bp as messages_bp
from contacts.entrypoints.notes_api import bp as notes_bp
from contacts.entrypoints.options_api import bp as options_bp
from contacts.entrypoints.saved_views_api import bp as saved_views_bp
from contacts.entrypoints.representation import contact_from_aggregate, contact_from_view
from contacts.service_layer import past_reads, saved_view_handlers

bp = Blueprint("contacts", __name__, url_prefix="/v1/contacts")
TAGS = ["contacts"]


def create_app(settings: dict | None = None) -> Flask:
    container = Container(settings or config.load())
    app = create_service_app(
        config.SERVICE_NAME,
        log_level=container.settings["LOG_LEVEL"],
        required_checks={"mongodb": container.mongo.answers},
        reported_checks={"kafka": container.kafka_answers},
        internal_token=container.settings["INTERNAL_TOKEN"],
        metrics_token=container.settings["METRICS_TOKEN"],
    )
    app.extensions["container"] = container
    app.register_blueprint(bp)
    app.register_blueprint(labels_bp)
    app.register_blueprint(custom_fields_bp)
    app.register_blueprint(notes_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(saved_views_bp)
    app.register_blueprint(bulk_labels_bp)
    app.register_blueprint(jobs_blueprint())
    app.register_blueprint(options_bp)
    app.register_blueprint(contact_settings_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(timeline_blueprint())
    add_spec_route(app, "contacts", "1")
    return app


@bp.post("")
@operation("Create a contact (409 duplicate-contact if its email or phone is another's)", tags=TAGS,
           request_schema=schemas.ContactCreateSchema, query_schema=schemas.WriteQuerySchema,
           responses={201: schemas.ContactSchema}, problems=(415, 409, 422))
def create_contact():
    details = schemas.ContactCreateSchema().load(json_body())
    allow = schemas.WriteQuerySchema().load(request.args.to_dict())["allow_duplicates"]
    cmd = commands.CreateContact(account_id(), details, current_container().settings["DEFAULT_PHONE_REGION"], allow)
    contact = current_container().bus.handle(cmd)
    body = contact_from_aggregate(contact)
    return body, 201, {"Location": url_for("contacts.get_contact", contact_id=contact.id)}


@bp.get("")
@operation("Find contacts: search; filter by labels, email status, country, function, department, dates and "
           "custom field conditions (`cf.<key>.<op>=<value>`); sort; page", tags=TAGS,
           query_schema=schemas.ContactListQuerySchema, responses={200: schemas.ContactPageSchema}, problems=(404, 422))
def list_contacts():
    raw = request.args.to_dict()
    if raw.get("view"):  # read from its events, so a view works the moment it is saved
        raw = {**saved_view_handlers.saved_view_query(account_id(), raw["view"], current_container().unit_of_work()), **raw}
    args = schemas.ContactListQuerySchema().load(raw)
    limit, cursor, columns = args.pop("limit"), args.pop("cursor"), args.pop("fields_")
    args.pop("view")
    if args["custom_conditions"]:
        types = views.custom_field_types(current_container().custom_fields_projection.collection, account_id())
        args["custom_conditions"] = typed_conditions(args["custom_conditions"], types)
    projection = current_container().projection
    docs, next_cursor = find_page(projection.collection, account_id(), ContactQuery(**args), limit, cursor,
                                  numbers=projection.numbers, initials=projection.initials)
    items = [contact_from_view(d) for d in docs]
    if columns:
        keep = {"id", "revision", *columns}
        items = [{k: v for k, v in item.items() if k in keep} for item in items]
    return {"items": items, "next_cursor": next_cursor}


@bp.get("/<contact_id>")
@operation("Read a contact; with `as_of`, as it was at that moment (replayed from its events)", tags=TAGS,
           query_schema=schemas.ContactReadQuerySchema, responses={200: schemas.ContactSchema}, problems=(404, 422))
def get_contact(contact_id: str):
    moment = schemas.ContactReadQuerySchema().load(request.args.to_dict())["as_of"]
    if moment is not None:
        contact = past_reads.contact_as_of(current_container().unit_of_work(), account_id(), contact_id, moment)
        return {**contact_from_aggregate(contact), "as_of": moment.isoformat(timespec="microseconds")}
    doc = caught_up.contact(account_id(), contact_id)
    return contact_from_view(doc), 200, {"ETag": f'"{doc["version"]}"'}


@bp.get("/<contact_id>/history")
@operation("Every change to a contact: who, when, what changed; and the messages sent to it (newest first)", tags=TAGS,
           responses={200: schemas.HistorySchema}, problems=(404,))
def contact_history(contact_id: str):
    container = current_container()
    changes = views.contact_history(container.event_store, container.codec, account_id(), contact_id)
    messages = views.message_entries(container.messages_projection.collection, account_id(), contact_id)
    return {"items": views.with_messages(changes, messages)}


@bp.patch("/<contact_id>")
@operation("Change a contact (based on a revision)", tags=TAGS, request_schema=schemas.ContactPatchSchema,
           query_schema=schemas.WriteQuerySchema, responses={200: schemas.ContactSchema}, problems=(404, 409, 415, 422))
def update_contact(contact_id: str):
    data = schemas.ContactPatchSchema().load(json_body())
    allow = schemas.WriteQuerySchema().load(request.args.to_dict())["allow_duplicates"]
    revision = data.pop("revision")
    region = current_container().settings["DEFAULT_PHONE_REGION"]
    cmd = commands.UpdateContact(account_id(), contact_id, revision, data, region, allow)
    contact = current_container().bus.handle(cmd)
    return contact_from_aggregate(contact), 200, _content_location(contact.id)


@bp.post("/<contact_id>/merge")
@operation("Merge up to 5 contacts into this one: lists combined, notes, files and labels follow, sources deleted "
           "(ContactsMerged says which ids became which)", tags=TAGS, request_schema=schemas.MergeSchema,
           responses={200: schemas.ContactSchema}, problems=(404, 409, 415, 422))
def merge_contacts(contact_id: str):
    data = schemas.MergeSchema().load(json_body())
    merged = current_container().bus.handle(
        commands.MergeContacts(account_id(), contact_id, data["source_ids"], data["revision"]))
    return contact_from_aggregate(merged), 200, _content_location(merged.id)


def _content_location(contact_id: str) -> dict:
    """The body is that contact as it is now: a retry with the same Idempotency-Key is answered by reading it
    again there (the gateway keeps no body, docs/api.md)."""
    return {"Content-Location": url_for("contacts.get_contact", contact_id=contact_id)}


@bp.post("/<contact_id>/erase")
@operation("Erase the person (right to erasure): the contact and every contact merged with it are gone for good, "
           "their personal data, notes and files unreadable everywhere (their key is destroyed); cannot be undone",
           tags=TAGS, responses={200: schemas.ErasureSchema}, problems=(404,))
def erase_contact(contact_id: str):
    erased = current_container().bus.handle(commands.EraseContact(account_id(), contact_id))
    return {"erased_contact_ids": erased.contact_ids}


@bp.delete("/<contact_id>")
@operation("Delete a contact", tags=TAGS, query_schema=schemas.DeleteQuerySchema,
           responses={204: None}, problems=(404, 409, 422))
def delete_contact(contact_id: str):
    query = schemas.DeleteQuerySchema().load(request.args.to_dict())
    current_container().bus.handle(commands.DeleteContact(account_id(), contact_id, query["revision"]))
    return "", 204
