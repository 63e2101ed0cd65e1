"""The account's billing settings (`/v1/billing-settings`). Views load, send a command, dump."""
from __future__ import annotations

from flask import Blueprint
from marshmallow import Schema, fields

from crm_platform.http_schemas import StrictSchema
from crm_platform.openapi import operation
from crm_platform.revisions import based_on, etag
from crm_platform.web import account_id, current_container, json_body

from billing.domain.settings import BillingSettings, ChangeBillingSettings
from billing.service_layer import settings_handlers

bp = Blueprint("billing_settings", __name__, url_prefix="/v1/billing-settings")
TAGS = ["billing settings"]
TEMPLATE_NOTE = ("the mail a document is sent with; placeholders {document}, {number}, {total}, {due_date}, {seller} "
                 "({{ and }} for braces); empty: the language's default text")


class BillingSettingsSchema(Schema):
    revision = fields.Integer(required=True, metadata={"description": "0 while the account uses the defaults"})
    seller = fields.Dict(required=True, metadata={
        "description": "name, address (street lines, postal_code, city, region, country), siren, siret, "
                       "vat_number, iban, bic, email, phone"})
    default_currency = fields.String(required=True, metadata={"description": "ISO 4217, e.g. EUR"})
    time_zone = fields.String(required=True, metadata={"description": "IANA, e.g. Europe/Paris"})
    numbering = fields.Dict(required=True, metadata={
        "description": "invoices, credit_notes, quotes: patterns of text and {YYYY} {YY} {SEQ:n}"})
    payment_term = fields.Dict(required=True, metadata={"description": "kind (on_receipt, net, end_of_month), days"})
    notes = fields.String(required=True)
    legal_terms = fields.String(required=True)
    vat_exempt = fields.Boolean(required=True)
    vat_exemption_text = fields.String(required=True)
    email_subject_template = fields.String(required=True, metadata={"description": TEMPLATE_NOTE})
    email_message_template = fields.String(required=True, metadata={"description": TEMPLATE_NOTE})
    legal_mentions = fields.String(required=True, metadata={"description": "what a new document carries"})


class BillingSettingsChangeSchema(StrictSchema):
    """Every key optional; `seller` and `numbering` merge key by key (null clears a seller field)."""

    revision = fields.Integer(strict=True, metadata={"description": "the revision read (or send If-Match)"})
    seller = fields.Dict()
    default_currency = fields.String()
    time_zone = fields.String()
    numbering = fields.Dict()
    payment_term = fields.Dict()
    notes = fields.String()
    legal_terms = fields.String()
    vat_exempt = fields.Boolean(truthy={True}, falsy={False})
    vat_exemption_text = fields.String()
    email_subject_template = fields.String(metadata={"description": TEMPLATE_NOTE})
    email_message_template = fields.String(metadata={"description": TEMPLATE_NOTE})


@bp.get("")
@operation("The account's billing settings (the defaults until changed)", tags=TAGS,
           responses={200: BillingSettingsSchema}, operation_id="getBillingSettings")
def get_settings():
    settings = settings_handlers.account_settings(account_id(), current_container().unit_of_work())
    return _view(settings), 200, etag(settings.revision)


@bp.patch("")
@operation("Change some billing settings, based on a revision (body `revision` or If-Match; 409 when stale)",
           tags=TAGS, request_schema=BillingSettingsChangeSchema, responses={200: BillingSettingsSchema},
           problems=(409, 415, 422), operation_id="changeBillingSettings")
def change_settings():
    changes = BillingSettingsChangeSchema().load(json_body())
    revision = based_on(changes, required=True)
    settings = current_container().bus.handle(ChangeBillingSettings(account_id(), revision, changes))
    # a retry with the same Idempotency-Key is answered by reading the settings again there (docs/api.md)
    return _view(settings), 200, {**etag(settings.revision), "Content-Location": "/v1/billing-settings"}


def _view(settings: BillingSettings) -> dict:
    return {"revision": settings.revision, **settings.settings, "legal_mentions": settings.legal_mentions()}
