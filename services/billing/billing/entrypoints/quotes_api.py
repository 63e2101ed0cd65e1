"""Quotes (`/v1/quotes`): drafts, send (numbered), the customer's answer, conversion to a draft invoice.

Views load, send a command, dump. Amounts are decimal strings (an integer is accepted too; a JSON
float is refused with a 422 naming the field: the domain reads every amount).
"""
from __future__ import annotations

from flask import Blueprint, request, url_for

from crm_platform.openapi import operation
from crm_platform.revisions import based_on, etag
from crm_platform.web import account_id, current_container, json_body

from billing import document_views, views
from billing.domain import quote_commands as commands
from billing.domain.send_commands import MailQuote
from billing.entrypoints import invoice_schemas, quote_schemas as schemas
from billing.entrypoints import printing_api, sending_api
from billing.entrypoints.invoices_api import optional_body
from billing.entrypoints.quote_representation import quote_from_aggregate, quote_from_view
from billing.service_layer import queries

bp = Blueprint("quotes", __name__, url_prefix="/v1/quotes")
TAGS = ["quotes"]
ACTION = dict(request_schema=invoice_schemas.RevisionSchema, responses={200: schemas.QuoteSchema},
              problems=(404, 409, 415, 422))


def _answer(quote, status: int = 200):
    container = current_container()
    time_zone = queries.account_time_zone(account_id(), container.unit_of_work())
    location = url_for("quotes.get_quote", quote_id=quote.id)
    headers = {**etag(quote.revision), "Content-Location": location}
    if status == 201:
        headers["Location"] = location
    return quote_from_aggregate(quote, container.clock(), time_zone), status, headers


def _handle(command):
    return current_container().bus.handle(command)


@bp.post("")
@operation("Create a draft quote for a contact (the account's currency and notes fill what is left out)", tags=TAGS,
           request_schema=schemas.QuoteDraftSchema, responses={201: schemas.QuoteSchema}, problems=(409, 415, 422),
           operation_id="createQuoteDraft")
def create_draft():
    data = schemas.QuoteDraftSchema().load(json_body())
    return _answer(_handle(commands.CreateQuoteDraft(account_id(), data.pop("contact_id"),
                                                     tuple(data.pop("lines", ())), **data)), 201)


@bp.get("")
@operation("Find quotes: status (several, comma-separated; expired is derived from valid_until), contact; newest "
           "first; pages", tags=TAGS, query_schema=schemas.QuoteListQuerySchema,
           responses={200: schemas.QuotePageSchema}, problems=(422,))
def list_quotes():
    container = current_container()
    query = schemas.QuoteListQuerySchema().load(request.args.to_dict())
    limit, cursor = query.pop("limit"), query.pop("cursor")
    if query.get("contact_id"):  # documents follow the contact a contact was merged into
        query["contact_ids"] = views.contact_and_merged(container.customers.collection, account_id(),
                                                        query.pop("contact_id"))
    today = queries.account_today(account_id(), container.unit_of_work(), container.clock).isoformat()
    docs, next_cursor = document_views.quote_page(container.quotes.collection, account_id(), query, today, limit,
                                                  cursor)
    docs = container.quotes.opened(docs)  # the buyer's name is kept sealed
    return {"items": [quote_from_view(doc, today) for doc in docs], "next_cursor": next_cursor}


@bp.get("/<quote_id>")
@operation("Read a quote", tags=TAGS, responses={200: schemas.QuoteSchema}, problems=(404,))
def get_quote(quote_id: str):
    return _answer(queries.quote(account_id(), quote_id, current_container().unit_of_work()))


@bp.patch("/<quote_id>")
@operation("Change a draft quote (optionally based on a revision: body `revision` or If-Match)", tags=TAGS,
           request_schema=schemas.QuoteDraftChangeSchema, responses={200: schemas.QuoteSchema},
           problems=(404, 409, 415, 422), operation_id="updateQuoteDraft")
def update_draft(quote_id: str):
    data = schemas.QuoteDraftChangeSchema().load(json_body())
    revision = based_on(data, required=False)
    return _answer(_handle(commands.UpdateQuoteDraft(account_id(), quote_id, revision, data)))


@bp.delete("/<quote_id>")
@operation("Delete a draft quote", tags=TAGS, query_schema=invoice_schemas.RevisionQuerySchema,
           responses={204: None}, problems=(404, 409, 422), operation_id="deleteQuoteDraft")
def delete_draft(quote_id: str):
    query = invoice_schemas.RevisionQuerySchema().load(request.args.to_dict())
    _handle(commands.DeleteQuoteDraft(account_id(), quote_id, based_on(query, required=False)))
    return "", 204


@bp.post("/<quote_id>/send")
@operation("Send a draft: its number (gapless, own series), validity and buyer are fixed; sent again, it answers the "
           "same sent quote", tags=TAGS, **ACTION)
def send_quote(quote_id: str):
    revision = based_on(invoice_schemas.RevisionSchema().load(optional_body()), required=False)
    return _answer(_handle(commands.SendQuote(account_id(), quote_id, revision)))


@bp.post("/<quote_id>/accept")
@operation("Record the customer's acceptance (refused once the quote expired)", tags=TAGS, **ACTION)
def accept_quote(quote_id: str):
    revision = based_on(invoice_schemas.RevisionSchema().load(optional_body()), required=False)
    return _answer(_handle(commands.AcceptQuote(account_id(), quote_id, revision)))


@bp.post("/<quote_id>/decline")
@operation("Record the customer's refusal, with an optional reason", tags=TAGS, request_schema=schemas.DeclineSchema,
           responses={200: schemas.QuoteSchema}, problems=(404, 409, 415, 422))
def decline_quote(quote_id: str):
    data = schemas.DeclineSchema().load(optional_body())
    revision = based_on(data, required=False)
    return _answer(_handle(commands.DeclineQuote(account_id(), quote_id, data.get("reason"), revision)))


@bp.post("/<quote_id>/convert")
@operation("Convert a sent, expired or accepted quote to a draft invoice carrying its lines (`invoice_id`); again, "
           "the same invoice", tags=TAGS, responses={200: schemas.QuoteSchema}, problems=(404, 409, 422))
def convert_quote(quote_id: str):
    return _answer(_handle(commands.ConvertQuote(account_id(), quote_id)))


@bp.get("/<quote_id>/preview")
@operation("Preview a quote as HTML. " + printing_api.PREVIEW_NOTE, tags=TAGS,
           query_schema=printing_api.PrintQuerySchema, responses=printing_api.PREVIEW_RESPONSES, problems=(404, 422),
           operation_id="previewQuote")
def preview_quote(quote_id: str):
    return printing_api.preview("quote", quote_id)


@bp.get("/<quote_id>/pdf")
@operation("Print a quote: its PDF. " + printing_api.PDF_NOTE.replace("An issued document", "A sent quote"),
           tags=TAGS, query_schema=printing_api.PrintQuerySchema, responses=printing_api.PDF_RESPONSES,
           problems=(404, 422), operation_id="getQuotePdf")
def quote_pdf(quote_id: str):
    return printing_api.pdf("quote", quote_id)


sending_api.add_send_routes(bp, MailQuote, "quote_id", "Mail a sent (numbered) quote, its PDF attached "
                            "(`POST .../send` numbers a draft; this mails it).", verb="mail", path="email")
