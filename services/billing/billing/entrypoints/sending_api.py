"""What the send endpoints of billing documents share (`POST /v1/invoices/{id}/send`, `/v1/credit-notes/{id}/send`,
`/v1/quotes/{id}/email`, `GET .../sends`): the request and response schemas, and the views. The routes are on each
document's blueprint."""
from __future__ import annotations

import uuid

from flask import Blueprint, request, url_for
from marshmallow import Schema, fields, validate

from crm_platform.errors import NotFound
from crm_platform.http_schemas import StrictSchema
from crm_platform.mail.message import FAILURE_REASONS as MAIL_FAILURES
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from billing.adapters.document_labels import DEFAULT_LANGUAGE, LANGUAGES
from billing.domain.document_mail import FAILED, MAX_MESSAGE, MAX_RECIPIENTS, MAX_SUBJECT, QUEUED, SENT
from billing.domain.send_commands import SendDocument

SEND_NOTE = ("The mail goes out from the worker's outbox, the document's PDF (as `.../pdf` serves it) attached, one "
             "mail per address; exactly one per send request, whatever is retried (send the request again with the "
             "same Idempotency-Key to retry it safely). Its status (`queued`, `sent`, `failed` with a reason) is "
             "read from `.../sends`. An address billing knows as bounced is refused (422 naming `to`); an "
             "address unsubscribed from marketing is not: a billing document is a transactional mail.")
SEND_PROBLEMS = (404, 409, 415, 422)


class SendRequestSchema(StrictSchema):
    to = fields.List(fields.String(validate=validate.Length(min=3, max=254)),
                     validate=validate.Length(min=1, max=MAX_RECIPIENTS), metadata={
                         "description": "the addresses to send to (one mail each); absent: the buyer's primary "
                                        "e-mail address as billing knows it"})
    subject = fields.String(validate=validate.Length(min=1, max=MAX_SUBJECT), metadata={
        "description": "absent: the account's email_subject_template (billing settings), else a default"})
    message = fields.String(validate=validate.Length(min=1, max=MAX_MESSAGE), metadata={
        "description": "the mail's text; absent: the account's email_message_template, else a default"})
    lang = fields.String(load_default=DEFAULT_LANGUAGE, validate=validate.OneOf(LANGUAGES), metadata={
        "description": "the language of the PDF and of the default texts: fr or en; fr by default"})


class DeliverySchema(Schema):
    recipient = fields.Integer(required=True, metadata={"description": "the address's place in the send's `to`"})
    status = fields.String(required=True, validate=validate.OneOf((SENT, FAILED)),
                           metadata={"description": "sent or failed"})
    reason = fields.String(allow_none=True, validate=validate.OneOf(MAIL_FAILURES), metadata={
        "description": "why it failed: rejected (the address bounced), undeliverable, subject_erased, invalid"})
    at = fields.String(required=True)


class SendSchema(Schema):
    send_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf((QUEUED, SENT, FAILED)),
                           metadata={"description": "queued, sent (every mail went) or failed"})
    reason = fields.String(allow_none=True, validate=validate.OneOf(MAIL_FAILURES),
                           metadata={"description": "the first failed mail's reason (one of the deliveries')"})
    lang = fields.String(required=True)
    recipients = fields.Integer(required=True, metadata={"description": "how many addresses (the addresses are "
                                                                        "not shown: personal data)"})
    requested_at = fields.String(required=True)
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)


class SendListSchema(Schema):
    items = fields.List(fields.Nested(SendSchema), required=True)


def add_send_routes(bp: Blueprint, command: type[SendDocument], id_name: str, summary: str, verb: str = "send",
                    path: str = "send") -> None:
    """The send routes of one kind of document on its blueprint (`bp.name` is its repository as well):
    `POST /<id>/<path>` (operation `<verb><Kind>`: `summary`, then SEND_NOTE), `GET /<id>/sends` and
    `GET /<id>/sends/<send_id>`."""
    kind, noun = command.kind, command.kind.replace("_", " ")
    camel = "".join(word.capitalize() for word in kind.split("_"))
    read_one = f"{kind}_send"

    def send(**ids):
        return _send(command, f"{bp.name}.{read_one}", id_name, ids[id_name])

    def sends(**ids):
        return document_sends(bp.name, ids[id_name])

    def one_send(send_id: str, **ids):
        return document_send(bp.name, ids[id_name], send_id)

    tags = [bp.name.replace("_", " ")]
    bp.add_url_rule(f"/<{id_name}>/{path}", f"{verb}_{kind}", operation(
        f"{summary} {SEND_NOTE}", tags=tags, request_schema=SendRequestSchema, responses={202: SendSchema},
        problems=SEND_PROBLEMS, request_required=False, operation_id=f"{verb}{camel}")(send), methods=["POST"])
    bp.add_url_rule(f"/<{id_name}>/sends", f"{kind}_sends", operation(
        f"The {noun}'s sends by e-mail and what became of each (queued, sent, failed with a reason)", tags=tags,
        responses={200: SendListSchema}, problems=(404,), operation_id=f"list{camel}Sends")(sends), methods=["GET"])
    bp.add_url_rule(f"/<{id_name}>/sends/<send_id>", read_one, operation(
        f"One send of the {noun} by e-mail and what became of it", tags=tags, responses={200: SendSchema},
        problems=(404,), operation_id=f"get{camel}Send")(one_send), methods=["GET"])


def _send(command: type[SendDocument], endpoint: str, id_name: str, document_id: str):
    data = SendRequestSchema().load(json_body() if request.content_length or request.is_json else {})
    send = current_container().bus.handle(command(
        account_id(), document_id, f"send-{uuid.uuid4()}", data["lang"], tuple(data["to"]) if "to" in data else None,
        data.get("subject"), data.get("message")))
    # where the send's state is read: a replay of the request (Idempotency-Key) answers it as it is then
    where = url_for(endpoint, **{id_name: document_id, "send_id": send.send_id})
    return send.to_dict(), 202, {"Location": where, "Content-Location": where}


def document_sends(repository: str, document_id: str):
    sends = _document(repository, document_id).sends
    return {"items": [send.to_dict() for send in sorted(sends.values(), key=lambda s: s.requested_at)]}


def document_send(repository: str, document_id: str, send_id: str):
    send = _document(repository, document_id).sends.get(send_id)
    if send is None:
        raise SendNotFound(document_id, send_id)
    return send.to_dict()


def _document(repository: str, document_id: str):
    with current_container().unit_of_work() as uow:
        return getattr(uow, repository).get(account_id(), document_id)


class SendNotFound(NotFound):
    def __init__(self, document_id: str, send_id: str) -> None:
        super().__init__(f"{document_id} has no send {send_id}", document_id=document_id, send_id=send_id)
