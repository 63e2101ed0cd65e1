"""Recurring invoices (`/v1/recurring-invoices`): a template invoiced on a schedule by the worker's scheduler.

Views load, send a command, dump. Amounts are decimal strings (an integer is accepted too; a JSON
float is refused with a 422 naming the field: the domain reads every amount).
"""
from __future__ import annotations

from flask import Blueprint, request, url_for

from crm_platform.openapi import operation
from crm_platform.revisions import based_on, etag
from crm_platform.web import account_id, current_container, json_body

from billing import document_views, views
from billing.domain import recurring_commands as commands
from billing.entrypoints import invoice_schemas, quote_schemas as schemas
from billing.entrypoints.invoices_api import optional_body
from billing.entrypoints.quote_representation import recurring_from_aggregate, recurring_from_view
from billing.service_layer import queries

bp = Blueprint("recurring_invoices", __name__, url_prefix="/v1/recurring-invoices")
TAGS = ["recurring invoices"]
ACTION = dict(request_schema=invoice_schemas.RevisionSchema, responses={200: schemas.RecurringInvoiceSchema},
              problems=(404, 409, 415, 422))


def _answer(recurring, status: int = 200):
    container = current_container()
    today = queries.account_today(account_id(), container.unit_of_work(), container.clock)
    location = url_for("recurring_invoices.get_recurring_invoice", recurring_invoice_id=recurring.id)
    headers = {**etag(recurring.revision), "Content-Location": location}
    if status == 201:
        headers["Location"] = location
    return recurring_from_aggregate(recurring, today), status, headers


def _handle(command):
    return current_container().bus.handle(command)


def _revision() -> int | None:
    return based_on(invoice_schemas.RevisionSchema().load(optional_body()), required=False)


@bp.post("")
@operation("Invoice a template on a schedule (the account's currency, payment term, notes and legal terms fill what "
           "is left out); mode issue or draft (the default)", tags=TAGS,
           request_schema=schemas.RecurringInvoiceCreateSchema, responses={201: schemas.RecurringInvoiceSchema},
           problems=(409, 415, 422))
def create_recurring_invoice():
    data = schemas.RecurringInvoiceCreateSchema().load(json_body())
    return _answer(_handle(commands.CreateRecurringInvoice(
        account_id(), data.pop("contact_id"), data.pop("schedule"), lines=tuple(data.pop("lines", ())), **data)), 201)


@bp.get("")
@operation("Find recurring invoices: status (active, paused, cancelled, ended; several, comma-separated), contact; "
           "newest first; pages", tags=TAGS, query_schema=schemas.RecurringInvoiceListQuerySchema,
           responses={200: schemas.RecurringInvoicePageSchema}, problems=(422,))
def list_recurring_invoices():
    container = current_container()
    query = schemas.RecurringInvoiceListQuerySchema().load(request.args.to_dict())
    limit, cursor = query.pop("limit"), query.pop("cursor")
    if query.get("contact_id"):
        query["contact_ids"] = views.contact_and_merged(container.customers.collection, account_id(),
                                                        query.pop("contact_id"))
    docs, next_cursor = document_views.recurring_page(container.recurring_invoices.collection, account_id(), query,
                                                      limit, cursor)
    return {"items": [recurring_from_view(doc) for doc in docs], "next_cursor": next_cursor}


@bp.get("/<recurring_invoice_id>")
@operation("Read a recurring invoice: its template, schedule, next due date and the invoices it generated", tags=TAGS,
           responses={200: schemas.RecurringInvoiceSchema}, problems=(404,))
def get_recurring_invoice(recurring_invoice_id: str):
    return _answer(queries.recurring_invoice(account_id(), recurring_invoice_id, current_container().unit_of_work()))


@bp.patch("/<recurring_invoice_id>")
@operation("Change the template, contact, mode or schedule, for the occurrences generated from now on (a new "
           "schedule starts after the last day of the last period invoiced)", tags=TAGS,
           request_schema=schemas.RecurringInvoiceChangeSchema, responses={200: schemas.RecurringInvoiceSchema},
           problems=(404, 409, 415, 422))
def edit_recurring_invoice(recurring_invoice_id: str):
    data = schemas.RecurringInvoiceChangeSchema().load(json_body())
    revision = based_on(data, required=False)
    return _answer(_handle(commands.EditRecurringInvoice(account_id(), recurring_invoice_id, revision, data)))


@bp.post("/<recurring_invoice_id>/pause")
@operation("Pause: nothing is generated (what falls due while paused is not generated later)", tags=TAGS, **ACTION)
def pause(recurring_invoice_id: str):
    return _answer(_handle(commands.PauseRecurringInvoice(account_id(), recurring_invoice_id, _revision())))


@bp.post("/<recurring_invoice_id>/resume")
@operation("Resume from the first occurrence on or after today", tags=TAGS, **ACTION)
def resume(recurring_invoice_id: str):
    return _answer(_handle(commands.ResumeRecurringInvoice(account_id(), recurring_invoice_id, _revision())))


@bp.post("/<recurring_invoice_id>/cancel")
@operation("Cancel, for good (the invoices generated stay as they are)", tags=TAGS, **ACTION)
def cancel(recurring_invoice_id: str):
    return _answer(_handle(commands.CancelRecurringInvoice(account_id(), recurring_invoice_id, _revision())))
