"""Request and response schemas of invoices and credit notes. Lines, terms and amounts pass through as given:
the domain checks them and names the field (`lines.0.unit_price`), floats refused."""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate

from crm_platform.http_schemas import PageQuerySchema, StrictSchema

from billing.views import INVOICE_STATUSES

LINES_DOC = ("each {description, quantity, unit, unit_price, taxes: [{category (S, Z, E, AE, K, G, O, L, M), rate}], "
             "discount?: {kind: percent|amount, value}}; amounts as decimal strings")
# The example of the OpenAPI document (crm_platform.openapi_examples): one line, as a client sends it.
LINES_EXAMPLE = [{"description": "Consulting, half a day", "quantity": "1", "unit": "day", "unit_price": "450.00",
                  "taxes": [{"category": "S", "rate": "20"}]}]
PAYMENT_TERM_EXAMPLE = {"kind": "net", "days": 30}
PERIOD_EXAMPLE = {"start": "2026-01-01", "end": "2026-01-31"}
PERIOD_PROPERTIES = {"start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"}}
ID = validate.Length(min=1, max=200)


def _amount(**kwargs) -> fields.Raw:
    return fields.Raw(metadata={"type": "string", "description": 'a decimal amount as a string, e.g. "120.50" '
                                                                 "(an integer is accepted, a float is refused)"}, **kwargs)


class _DraftFields(StrictSchema):
    lines = fields.List(fields.Raw(), metadata={"description": LINES_DOC, "example": LINES_EXAMPLE})
    currency = fields.String(metadata={"description": "ISO 4217; the account's default otherwise"})
    payment_term = fields.Dict(metadata={"description": "{kind: on_receipt|net|end_of_month|fixed_date, days?, on?}",
                                         "example": PAYMENT_TERM_EXAMPLE})
    notes = fields.String()
    legal_terms = fields.String()
    discount = fields.Raw(allow_none=True, metadata={"description": "{kind: percent|amount, value}"})
    prices_include_tax = fields.Boolean(truthy={True}, falsy={False})
    period = fields.Raw(allow_none=True, metadata={
        "type": "object", "properties": PERIOD_PROPERTIES, "required": ["start", "end"], "additionalProperties": False,
        "example": PERIOD_EXAMPLE,
        "description": "the invoicing period it bills (EN 16931 BG-14), start on or before end; null or left out: "
                       "none"})


class InvoiceDraftSchema(_DraftFields):
    contact_id = fields.String(required=True, validate=ID)


class InvoiceDraftChangeSchema(_DraftFields):
    contact_id = fields.String(validate=ID)
    revision = fields.Integer(strict=True)


class RevisionSchema(StrictSchema):
    revision = fields.Integer(strict=True)


class RevisionQuerySchema(StrictSchema):
    revision = fields.Integer()


class PaymentSchema(StrictSchema):
    amount = _amount(required=True)
    paid_on = fields.String(required=True, metadata={"description": "YYYY-MM-DD"})
    method = fields.String(required=True, metadata={
        "enum": ["bank_transfer", "card", "cash", "check", "direct_debit", "other"]})
    reference = fields.String(allow_none=True)
    payment_id = fields.String(validate=ID, metadata={"description": "yours, to make a retry record it once"})
    revision = fields.Integer(strict=True)


class ReasonSchema(StrictSchema):
    reason = fields.String(required=True)
    revision = fields.Integer(strict=True)


class CreditNoteCreateSchema(StrictSchema):
    invoice_id = fields.String(required=True, validate=ID)
    reason = fields.String(required=True)
    lines = fields.List(fields.Raw(), allow_none=True, metadata={"description": "the lines credited; all when left out"})
    credit_note_id = fields.String(validate=ID, metadata={
        "description": "yours, to make a retry issue it once: a key, the note gets its own id, made with your account"})


class StatusList(fields.String):
    """A comma-separated list of statuses, each one of `known`. The pattern states them for the OpenAPI document
    (a query string cannot carry an enum of several values)."""

    def __init__(self, known: tuple[str, ...], **kwargs) -> None:
        one = "(?:" + "|".join(map(re.escape, known)) + ")"
        super().__init__(metadata={"description": ", ".join(known) + " (several, comma-separated)",
                                   "pattern": rf"^\s*(?:{one}\s*)?(?:,\s*(?:{one}\s*)?)*$"}, **kwargs)
        self.known = known

    def _deserialize(self, value, attr, data, **kwargs):
        items = [item.strip() for item in super()._deserialize(value, attr, data, **kwargs).split(",") if item.strip()]
        bad = [item for item in items if item not in self.known]
        if bad:
            raise ValidationError(f"unknown status {', '.join(bad)}; known: {', '.join(self.known)}")
        return items


class _DateRange(PageQuerySchema):
    contact_id = fields.String(validate=ID)
    issued_from = fields.Date()
    issued_to = fields.Date()

    def load(self, *args, **kwargs):
        data = super().load(*args, **kwargs)
        for name in ("issued_from", "issued_to"):
            if data.get(name):
                data[name] = data[name].isoformat()
        return data


class InvoiceListQuerySchema(_DateRange):
    status = StatusList(INVOICE_STATUSES)
    overdue = fields.Boolean()


class CreditNoteListQuerySchema(_DateRange):
    invoice_id = fields.String(validate=ID)


class InvoiceSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(INVOICE_STATUSES)})
    number = fields.String(allow_none=True)
    contact_id = fields.String(required=True)
    currency = fields.String(required=True)
    lines = fields.List(fields.Dict())
    prices_include_tax = fields.Boolean()
    discount = fields.Dict(allow_none=True, metadata={"description": "the document's discount: percent or amount"})
    period = fields.Dict(allow_none=True, metadata={
        "properties": PERIOD_PROPERTIES, "description": "the invoicing period it bills (EN 16931 BG-14), or null"})
    payment_term = fields.Dict(allow_none=True)
    notes = fields.String(allow_none=True, metadata={"description": "null once its processing is restricted"})
    legal_terms = fields.String(allow_none=True)
    totals = fields.Dict(metadata={"description": "net_total, discount_total, tax_breakdown, tax_total, total..."})
    amount_paid = fields.String()
    amount_credited = fields.String()
    amount_due = fields.String()
    issued_on = fields.String(allow_none=True)
    due_on = fields.String(allow_none=True)
    paid_on = fields.String(allow_none=True)
    payments = fields.List(fields.Dict())
    credits = fields.List(fields.Dict(), metadata={"description": "credit_note_id and amount of each credit note"})
    buyer = fields.Dict()
    seller = fields.Dict()
    processing_restricted_until = fields.String(allow_none=True, metadata={
        "description": "set once the person it is for asked for erasure: kept read only for the law (10 years) "
                       "until this day (inclusive), then its personal data is erased; writes answer 409 "
                       "processing-restricted"})


class InvoiceSummarySchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(required=True)
    number = fields.String(allow_none=True)
    contact_id = fields.String()
    buyer_name = fields.String(allow_none=True)
    currency = fields.String()
    total = fields.String()
    amount_due = fields.String()
    issued_on = fields.String(allow_none=True)
    due_on = fields.String(allow_none=True)


class InvoicePageSchema(Schema):
    items = fields.List(fields.Nested(InvoiceSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class CreditNoteSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    status = fields.String(metadata={"enum": ["issuing", "issued", "abandoned"],
                                     "description": "abandoned: its invoice refused the credit; it never counted"})
    number = fields.String(allow_none=True)
    invoice_id = fields.String(required=True)
    invoice_number = fields.String()
    contact_id = fields.String()
    currency = fields.String()
    lines = fields.List(fields.Dict())
    totals = fields.Dict()
    total = fields.String()
    issued_on = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    buyer = fields.Dict()
    seller = fields.Dict()
    processing_restricted_until = fields.String(allow_none=True, metadata={
        "description": "set once the person it is for asked for erasure: kept read only for the law (10 years) "
                       "until this day (inclusive), then its personal data is erased; writes answer 409 "
                       "processing-restricted"})


class CreditNotePageSchema(Schema):
    items = fields.List(fields.Nested(CreditNoteSchema), required=True)
    next_cursor = fields.String(allow_none=True)
