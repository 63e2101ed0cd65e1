"""Invoices (`/v1/invoices`): drafts, issue, payments, void. Views load, send a command, dump.

Amounts are decimal strings (an integer is accepted too; a JSON float is refused with a 422 naming
the field: the domain reads every amount, so the schemas here pass them on as given).
"""
from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from crm_platform.openapi import BINARY, operation
from crm_platform.revisions import based_on, etag
from crm_platform.web import account_id, current_container, json_body

from billing import views
from billing.adapters.cross_industry_invoice import invoice_xml
from billing.domain import commands
from billing.domain.send_commands import SendInvoice
from billing.entrypoints import invoice_schemas as schemas
from billing.entrypoints import printing_api, sending_api
from billing.entrypoints.representation import invoice_from_aggregate, invoice_from_view
from billing.service_layer import queries

bp = Blueprint("invoices", __name__, url_prefix="/v1/invoices")
TAGS = ["invoices"]


def _today() -> str:
    container = current_container()
    return queries.account_today(account_id(), container.unit_of_work(), container.clock).isoformat()


def _answer(invoice, status: int = 200):
    headers = {**etag(invoice.revision), "Content-Location": url_for("invoices.get_invoice", invoice_id=invoice.id)}
    return invoice_from_aggregate(invoice, _today()), status, headers


@bp.post("")
@operation("Create a draft invoice for a contact (the account's defaults fill what is left out)", tags=TAGS,
           request_schema=schemas.InvoiceDraftSchema, responses={201: schemas.InvoiceSchema}, problems=(409, 415, 422),
           operation_id="createInvoiceDraft")
def create_draft():
    data = schemas.InvoiceDraftSchema().load(json_body())
    invoice = current_container().bus.handle(commands.CreateInvoiceDraft(
        account_id(), data.pop("contact_id"), tuple(data.pop("lines", ())), **data))
    body, _, headers = _answer(invoice)
    return body, 201, {**headers, "Location": headers["Content-Location"]}


@bp.get("")
@operation("Find invoices: status (several, comma-separated), contact, issue dates, overdue; newest first; pages",
           tags=TAGS, query_schema=schemas.InvoiceListQuerySchema, responses={200: schemas.InvoicePageSchema},
           problems=(422,))
def list_invoices():
    query = schemas.InvoiceListQuerySchema().load(request.args.to_dict())
    limit, cursor = query.pop("limit"), query.pop("cursor")
    if query.get("contact_id"):  # documents follow the contact a contact was merged into
        query["contact_ids"] = views.contact_and_merged(current_container().customers.collection, account_id(),
                                                        query.pop("contact_id"))
    today = _today()
    docs, next_cursor = views.invoice_page(current_container().invoices.collection, account_id(), query, today,
                                           limit, cursor)
    docs = current_container().invoices.opened(docs)  # the buyer's name is kept sealed
    return {"items": [invoice_from_view(doc, today) for doc in docs], "next_cursor": next_cursor}


@bp.get("/<invoice_id>")
@operation("Read an invoice", tags=TAGS, responses={200: schemas.InvoiceSchema}, problems=(404,))
def get_invoice(invoice_id: str):
    return _answer(queries.invoice(account_id(), invoice_id, current_container().unit_of_work()))


@bp.get("/<invoice_id>/xml")
@operation("The issued invoice as an EN 16931 e-invoice: Cross Industry Invoice XML, Factur-X profile EN 16931 (the "
           "factur-x.xml its PDF embeds); a draft has none (409)", tags=TAGS,
           responses={200: ("application/xml", BINARY)}, problems=(404, 409), operation_id="getInvoiceXml")
def get_invoice_xml(invoice_id: str):
    invoice = queries.invoice(account_id(), invoice_id, current_container().unit_of_work())
    return Response(invoice_xml(invoice), mimetype="application/xml")


@bp.patch("/<invoice_id>")
@operation("Change a draft (optionally based on a revision: body `revision` or If-Match)", tags=TAGS,
           request_schema=schemas.InvoiceDraftChangeSchema, responses={200: schemas.InvoiceSchema},
           problems=(404, 409, 415, 422), operation_id="updateInvoiceDraft")
def update_draft(invoice_id: str):
    data = schemas.InvoiceDraftChangeSchema().load(json_body())
    revision = based_on(data, required=False)
    return _answer(current_container().bus.handle(commands.UpdateInvoiceDraft(account_id(), invoice_id, revision, data)))


@bp.delete("/<invoice_id>")
@operation("Delete a draft (issued invoices are voided or credited instead)", tags=TAGS,
           query_schema=schemas.RevisionQuerySchema, responses={204: None}, problems=(404, 409, 422),
           operation_id="deleteInvoiceDraft")
def delete_draft(invoice_id: str):
    query = schemas.RevisionQuerySchema().load(request.args.to_dict())
    revision = based_on(query, required=False)
    current_container().bus.handle(commands.DeleteInvoiceDraft(account_id(), invoice_id, revision))
    return "", 204


@bp.post("/<invoice_id>/issue")
@operation("Issue a draft: its number (gapless, per fiscal year), due date and buyer are fixed; sent again, it "
           "answers the same issued invoice", tags=TAGS, request_schema=schemas.RevisionSchema,
           responses={200: schemas.InvoiceSchema}, problems=(404, 409, 415, 422))
def issue_invoice(invoice_id: str):
    data = schemas.RevisionSchema().load(optional_body())
    revision = based_on(data, required=False)
    return _answer(current_container().bus.handle(commands.IssueInvoice(account_id(), invoice_id, revision)))


@bp.post("/<invoice_id>/payments")
@operation("Record a payment (at most the amount due: an overpayment is refused, never kept as credit)", tags=TAGS,
           request_schema=schemas.PaymentSchema, responses={201: schemas.InvoiceSchema}, problems=(404, 409, 415, 422))
def record_payment(invoice_id: str):
    data = schemas.PaymentSchema().load(json_body())
    revision = based_on(data, required=False)
    invoice = current_container().bus.handle(commands.RecordPayment(account_id(), invoice_id, revision=revision, **data))
    return _answer(invoice, 201)


@bp.delete("/<invoice_id>/payments/<payment_id>")
@operation("Remove a payment, with a reason (in the JSON body: it may name people, so not in the URL)", tags=TAGS,
           request_schema=schemas.ReasonSchema, responses={200: schemas.InvoiceSchema}, problems=(404, 409, 415, 422))
def remove_payment(invoice_id: str, payment_id: str):
    data = schemas.ReasonSchema().load(json_body())
    revision = based_on(data, required=False)
    return _answer(current_container().bus.handle(
        commands.RemovePayment(account_id(), invoice_id, payment_id, data["reason"], revision)))


@bp.post("/<invoice_id>/void")
@operation("Void an issued invoice nothing was paid or credited on, with a reason", tags=TAGS,
           request_schema=schemas.ReasonSchema, responses={200: schemas.InvoiceSchema}, problems=(404, 409, 415, 422))
def void_invoice(invoice_id: str):
    data = schemas.ReasonSchema().load(json_body())
    revision = based_on(data, required=False)
    return _answer(current_container().bus.handle(commands.VoidInvoice(account_id(), invoice_id, data["reason"], revision)))


def optional_body() -> dict:
    """An action's body may be left out altogether."""
    return json_body() if request.content_length or request.is_json else {}


@bp.get("/<invoice_id>/preview")
@operation("Preview an invoice as HTML. " + printing_api.PREVIEW_NOTE, tags=TAGS,
           query_schema=printing_api.PrintQuerySchema, responses=printing_api.PREVIEW_RESPONSES, problems=(404, 422),
           operation_id="previewInvoice")
def preview_invoice(invoice_id: str):
    return printing_api.preview("invoice", invoice_id)


@bp.get("/<invoice_id>/pdf")
@operation("Print an invoice: its PDF. " + printing_api.PDF_NOTE, tags=TAGS,
           query_schema=printing_api.PrintQuerySchema, responses=printing_api.PDF_RESPONSES, problems=(404, 422),
           operation_id="getInvoicePdf")
def invoice_pdf(invoice_id: str):
    return printing_api.pdf("invoice", invoice_id)


sending_api.add_send_routes(bp, SendInvoice, "invoice_id", "Send an issued invoice by e-mail, its PDF attached.")
