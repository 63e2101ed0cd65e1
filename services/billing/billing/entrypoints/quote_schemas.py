"""Request and response schemas of quotes and recurring invoices. Lines, schedules and amounts pass through as
given: the domain checks them and names the field (`lines.0.unit_price`, `schedule.every`), floats refused."""
from __future__ import annotations

from marshmallow import Schema, fields

from crm_platform.http_schemas import PageQuerySchema, StrictSchema

from billing.document_views import QUOTE_STATUSES, RECURRING_STATUSES
from billing.entrypoints.invoice_schemas import ID, LINES_DOC, LINES_EXAMPLE, PAYMENT_TERM_EXAMPLE, StatusList

SCHEDULE_DOC = ("{anchor: YYYY-MM-DD (the first occurrence), every: 1.., unit: week|month|year, "
                "ends: never|after|on, count? (ends after), until? (ends on, YYYY-MM-DD)}; anchor and until are "
                "calendar dates written YYYY-MM-DD, from the year 1000 (a week date such as 2026-W01-1 is refused)")


class _QuoteFields(StrictSchema):
    lines = fields.List(fields.Raw(), metadata={"description": LINES_DOC, "example": LINES_EXAMPLE})
    currency = fields.String(metadata={"description": "ISO 4217; the account's default otherwise"})
    valid_until = fields.Raw(allow_none=True, metadata={
        "description": "YYYY-MM-DD, the last day it may be accepted (the end of that day in the account's time "
                       "zone); 30 days after it is sent otherwise"})
    notes = fields.String()
    legal_terms = fields.String()
    discount = fields.Raw(allow_none=True, metadata={"description": "{kind: percent|amount, value}"})
    prices_include_tax = fields.Boolean(truthy={True}, falsy={False})


class QuoteDraftSchema(_QuoteFields):
    contact_id = fields.String(required=True, validate=ID)


class QuoteDraftChangeSchema(_QuoteFields):
    contact_id = fields.String(validate=ID)
    revision = fields.Integer(strict=True)


class DeclineSchema(StrictSchema):
    reason = fields.String(allow_none=True)
    revision = fields.Integer(strict=True)



class QuoteListQuerySchema(PageQuerySchema):
    status = StatusList(QUOTE_STATUSES)
    contact_id = fields.String(validate=ID)


class QuoteSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(QUOTE_STATUSES)})
    number = fields.String(allow_none=True)
    contact_id = fields.String(required=True)
    currency = fields.String(required=True)
    lines = fields.List(fields.Dict())
    prices_include_tax = fields.Boolean()
    discount = fields.Dict(allow_none=True, metadata={"description": "the document's discount: percent or amount"})
    notes = fields.String(allow_none=True)
    legal_terms = fields.String(allow_none=True)
    totals = fields.Dict()
    total = fields.String(metadata={"description": "the amount to pay, as a decimal string"})
    valid_until = fields.String(allow_none=True)
    sent_on = fields.String(allow_none=True)
    decided_on = fields.String(allow_none=True, metadata={"description": "the day it was accepted or declined"})
    invoice_id = fields.String(allow_none=True, metadata={"description": "the draft invoice it was converted to"})
    buyer = fields.Dict()
    seller = fields.Dict()


class QuoteSummarySchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(required=True)
    number = fields.String(allow_none=True)
    contact_id = fields.String()
    buyer_name = fields.String(allow_none=True)
    currency = fields.String()
    total = fields.String()
    sent_on = fields.String(allow_none=True)
    valid_until = fields.String(allow_none=True)
    invoice_id = fields.String(allow_none=True)


class QuotePageSchema(Schema):
    items = fields.List(fields.Nested(QuoteSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class _TemplateFields(StrictSchema):
    schedule = fields.Dict(metadata={"description": SCHEDULE_DOC})
    mode = fields.String(metadata={
        "enum": ["issue", "draft"], "description": "issue: each invoice is issued when generated; draft: left for staff"})
    lines = fields.List(fields.Raw(), metadata={"description": LINES_DOC, "example": LINES_EXAMPLE})
    currency = fields.String(metadata={"description": "ISO 4217; the account's default otherwise"})
    payment_term = fields.Dict(metadata={"description": "{kind: on_receipt|net|end_of_month|fixed_date, days?, on?}",
                                         "example": PAYMENT_TERM_EXAMPLE})
    notes = fields.String()
    legal_terms = fields.String()
    discount = fields.Raw(allow_none=True, metadata={"description": "{kind: percent|amount, value}"})
    prices_include_tax = fields.Boolean(truthy={True}, falsy={False})


class RecurringInvoiceCreateSchema(_TemplateFields):
    contact_id = fields.String(required=True, validate=ID)
    schedule = fields.Dict(required=True, metadata={"description": SCHEDULE_DOC})


class RecurringInvoiceChangeSchema(_TemplateFields):
    contact_id = fields.String(validate=ID)
    revision = fields.Integer(strict=True)


class RecurringInvoiceListQuerySchema(PageQuerySchema):
    status = StatusList(RECURRING_STATUSES)
    contact_id = fields.String(validate=ID)


class RecurringInvoiceSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(RECURRING_STATUSES)})
    contact_id = fields.String(required=True)
    schedule = fields.Dict(required=True)
    mode = fields.String(required=True)
    currency = fields.String()
    lines = fields.List(fields.Dict())
    totals = fields.Dict(metadata={"description": "of one invoice of the template"})
    next_due_on = fields.String(allow_none=True, metadata={"description": "None when paused, cancelled or ended"})
    generated = fields.List(fields.Dict(), metadata={"description": "[{k, invoice_id}], oldest first"})


class RecurringInvoiceSummarySchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(required=True)
    contact_id = fields.String()
    mode = fields.String()
    schedule = fields.Dict()
    currency = fields.String()
    next_due_on = fields.String(allow_none=True)
    generated_count = fields.Integer()


class RecurringInvoicePageSchema(Schema):
    items = fields.List(fields.Nested(RecurringInvoiceSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True)
