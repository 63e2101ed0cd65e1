"""Messages to a contact (`/v1/contacts/{id}/messages`): e-mails sent through the mail outbox. Views load, call
a handler, dump."""
from __future__ import annotations

from flask import Blueprint, request, url_for
from marshmallow import Schema, fields, validate

from crm_platform.http_schemas import PageQuerySchema, StrictSchema
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts import views
from contacts.domain import commands
from contacts.domain.messages import MAX_ATTACHMENTS, MAX_BODY, MAX_SUBJECT, STATUSES, Message
from contacts.entrypoints import caught_up
from contacts.service_layer import message_handlers

FAILURE_REASONS = message_handlers.FAILURE_REASONS

bp = Blueprint("messages", __name__, url_prefix="/v1/contacts/<contact_id>/messages")
TAGS = ["messages"]


class MessageCreateSchema(StrictSchema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SUBJECT),
                            metadata={"description": "one line: no carriage return, line feed or NUL"})
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY),
                         metadata={"description": "plain text"})
    to = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=254), metadata={
        "description": "one of the contact's e-mail addresses; by default its primary one"})
    marketing = fields.Boolean(load_default=False, metadata={
        "description": "a marketing message is refused (409 email-unsubscribed) to an unsubscribed address"})
    attachment_ids = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                                 validate=validate.Length(max=MAX_ATTACHMENTS), metadata={
                                     "description": "files of this contact (its attachments), 10 MiB together"})


class MessageAttachmentSchema(Schema):
    attachment_id = fields.String(required=True)
    file_name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)


class MessageSummarySchema(Schema):
    message_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    reason = fields.String(allow_none=True, validate=validate.OneOf(FAILURE_REASONS), metadata={
        "description": "why it failed: rejected (the address bounced), undeliverable (given up after retries), "
                       "subject_erased, invalid, attachment_deleted (a file deleted before the mail went), processing_restricted "
                       "(marketing to a person who restricted processing before it went)"})
    to = fields.String(required=True)
    subject = fields.String(required=True)
    marketing = fields.Boolean(required=True)
    created_at = fields.String(required=True)
    finished_at = fields.String(allow_none=True, metadata={"description": "when it was sent or failed"})
    attachments = fields.List(fields.Nested(MessageAttachmentSchema), required=True)


class MessageSchema(MessageSummarySchema):
    body = fields.String(required=True)


class MessagePageSchema(Schema):
    items = fields.List(fields.Nested(MessageSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True)


def _from_aggregate(message: Message) -> dict:
    state = message.state
    return {"message_id": message.id, "status": state.status, "reason": state.reason, "to": state.to,
            "subject": state.subject_line, "body": state.body, "marketing": state.marketing,
            "created_at": state.created_at, "finished_at": state.finished_at, "attachments": state.attachments}


def _from_view(doc: dict) -> dict:
    finished = doc.get("finished_at")
    return {"message_id": doc["_id"], "status": doc["status"], "reason": doc.get("reason"), "to": doc["to"],
            "subject": doc["subject"], "marketing": doc["marketing"],
            "created_at": views.iso_date(doc["created_at"]), "finished_at": views.iso_date(finished) if finished else None,
            "attachments": doc.get("attachments") or []}


@bp.get("")
@operation("A contact's messages, newest first, with their delivery status", tags=TAGS, query_schema=PageQuerySchema,
           responses={200: MessagePageSchema}, problems=(404, 422))
def list_messages(contact_id: str):
    query = PageQuerySchema().load(request.args.to_dict())
    caught_up.contact(account_id(), contact_id)
    docs, next_cursor = views.contact_items_page(current_container().messages_projection.collection, account_id(),
                                                 contact_id, **query)
    return {"items": [_from_view(d) for d in docs], "next_cursor": next_cursor}


@bp.post("")
@operation("Send an e-mail to the contact (queued; GET it for its delivery status). Refused with 409 when the "
           "address bounced (email-bounced), or is unsubscribed and the message is marketing (email-unsubscribed)",
           tags=TAGS, request_schema=MessageCreateSchema, responses={202: MessageSummarySchema},
           problems=(404, 409, 415, 422))
def send_message(contact_id: str):
    data = MessageCreateSchema().load(json_body())
    message = current_container().bus.handle(commands.SendMessage(
        account_id(), contact_id, data["subject"], data["body"], data["to"], data["marketing"],
        tuple(data["attachment_ids"])))
    shown = {k: v for k, v in _from_aggregate(message).items() if k != "body"}
    return shown, 202, {"Location": url_for("messages.get_message", contact_id=contact_id, message_id=message.id)}


@bp.get("/<message_id>")
@operation("Read a message and its delivery status", tags=TAGS, responses={200: MessageSchema}, problems=(404,))
def get_message(contact_id: str, message_id: str):
    return _from_aggregate(message_handlers.message_of(current_container().unit_of_work(), account_id(), contact_id,
                                                       message_id))
