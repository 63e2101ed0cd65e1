"""What the send endpoints of billing documents share (`POST /v1/invoices/{id}/send`, `GET .../sends`): the
request and response schemas, and the views. The routes are on each document's blueprint."""
from __future__ import annotations

import uuid

from flask import request, url_for
from marshmallow import Schema, fields, validate

from crm_platform.errors import NotFound
from crm_platform.http_schemas import StrictSchema
from crm_platform.web import account_id, current_container, json_body

from billing.adapters.document_labels import DEFAULT_LANGUAGE, LANGUAGES
from billing.domain.document_mail import MAX_MESSAGE, MAX_RECIPIENTS, MAX_SUBJECT
from billing.domain.send_commands import MailQuote, SendInvoice

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
    status = fields.String(required=True, metadata={"description": "sent or failed"})
    reason = fields.String(allow_none=True, metadata={
        "description": "why it failed: rejected (the address bounced), undeliverable, subject_erased, invalid"})
    at = fields.String(required=True)


class SendSchema(Schema):
    send_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued, sent (every mail went) or failed"})
    reason = fields.String(allow_none=True, metadata={"description": "the first failed mail's reason"})
    lang = fields.String(required=True)
    recipients = fields.Integer(required=True, metadata={"description": "how many addresses (the addresses are "
                                                                        "not shown: personal data)"})
    requested_at = fields.String(required=True)
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)


class SendListSchema(Schema):
    items = fields.List(fields.Nested(SendSchema), required=True)


def send_invoice(invoice_id: str):
    return _send("invoices.invoice_send", "invoice_id", invoice_id, SendInvoice)


def mail_quote(quote_id: str):
    return _send("quotes.quote_send", "quote_id", quote_id, MailQuote)


def _send(endpoint: str, id_name: str, document_id: str, command):
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
