"""Credit notes (`/v1/credit-notes`): the correction of an issued invoice, in full or in part."""
from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from crm_platform.openapi import BINARY, operation
from crm_platform.revisions import etag
from crm_platform.web import account_id, current_container, json_body

from billing import views
from billing.adapters.cross_industry_invoice import credit_note_xml
from billing.domain import commands
from billing.domain.send_commands import SendCreditNote
from billing.entrypoints import invoice_schemas as schemas
from billing.entrypoints import printing_api, sending_api
from billing.entrypoints.representation import credit_note_from_aggregate, credit_note_from_view
from billing.service_layer import queries

bp = Blueprint("credit_notes", __name__, url_prefix="/v1/credit-notes")
TAGS = ["credit notes"]


@bp.post("")
@operation("Credit an issued invoice, all of it or the lines given: a numbered credit note (its own gapless "
           "series) that reduces the amount due, never below zero", tags=TAGS,
           request_schema=schemas.CreditNoteCreateSchema, responses={201: schemas.CreditNoteSchema},
           problems=(404, 409, 415, 422))
def issue_credit_note():
    data = schemas.CreditNoteCreateSchema().load(json_body())
    lines = data.get("lines")
    note = current_container().bus.handle(commands.IssueCreditNote(
        account_id(), data["invoice_id"], data["reason"], None if lines is None else tuple(lines),
        data.get("credit_note_id")))
    location = url_for("credit_notes.get_credit_note", credit_note_id=note.id)
    return credit_note_from_aggregate(note), 201, {**etag(note.revision), "Location": location}


@bp.get("")
@operation("Find credit notes: contact, invoice, issue dates; newest first; pages", tags=TAGS,
           query_schema=schemas.CreditNoteListQuerySchema, responses={200: schemas.CreditNotePageSchema},
           problems=(422,))
def list_credit_notes():
    query = schemas.CreditNoteListQuerySchema().load(request.args.to_dict())
    limit, cursor = query.pop("limit"), query.pop("cursor")
    if query.get("contact_id"):  # documents follow the contact a contact was merged into
        query["contact_ids"] = views.contact_and_merged(current_container().customers.collection, account_id(),
                                                        query.pop("contact_id"))
    docs, next_cursor = views.credit_note_page(current_container().credit_notes.collection, account_id(), query,
                                               limit, cursor)
    docs = current_container().credit_notes.opened(docs)  # the buyer's name is kept sealed
    return {"items": [credit_note_from_view(doc) for doc in docs], "next_cursor": next_cursor}


@bp.get("/<credit_note_id>")
@operation("Read a credit note", tags=TAGS, responses={200: schemas.CreditNoteSchema}, problems=(404,))
def get_credit_note(credit_note_id: str):
    note = queries.credit_note(account_id(), credit_note_id, current_container().unit_of_work())
    return credit_note_from_aggregate(note), 200, etag(note.revision)


@bp.get("/<credit_note_id>/xml")
@operation("The issued credit note as an EN 16931 e-invoice: Cross Industry Invoice XML (type code 381, referencing "
           "the invoice it credits), Factur-X profile EN 16931; one not issued yet has none (409)", tags=TAGS,
           responses={200: ("application/xml", BINARY)}, problems=(404, 409), operation_id="getCreditNoteXml")
def get_credit_note_xml(credit_note_id: str):
    note = queries.credit_note(account_id(), credit_note_id, current_container().unit_of_work())
    return Response(credit_note_xml(note), mimetype="application/xml")


@bp.get("/<credit_note_id>/preview")
@operation("Preview a credit note as HTML. " + printing_api.PREVIEW_NOTE, tags=TAGS,
           query_schema=printing_api.PrintQuerySchema, responses=printing_api.PREVIEW_RESPONSES, problems=(404, 422),
           operation_id="previewCreditNote")
def preview_credit_note(credit_note_id: str):
    return printing_api.preview("credit_note", credit_note_id)


@bp.get("/<credit_note_id>/pdf")
@operation("Print a credit note: its PDF. " + printing_api.PDF_NOTE, tags=TAGS,
           query_schema=printing_api.PrintQuerySchema, responses=printing_api.PDF_RESPONSES, problems=(404, 422),
           operation_id="getCreditNotePdf")
def credit_note_pdf(credit_note_id: str):
    return printing_api.pdf("credit_note", credit_note_id)


sending_api.add_send_routes(bp, SendCreditNote, "credit_note_id",
                            "Send an issued credit note by e-mail, its PDF attached.")
