"""The account's contact settings (`/v1/contact-settings`). Views load, call a handler, dump."""
from __future__ import annotations

import phonenumbers
from flask import Blueprint
from marshmallow import Schema, fields, validate

from crm_platform.http_schemas import StrictSchema
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts.domain import commands
from contacts.service_layer import handlers

bp = Blueprint("contact_settings", __name__, url_prefix="/v1/contact-settings")
TAGS = ["contact settings"]


class ContactSettingsSchema(Schema):
    default_phone_region = fields.String(required=True, metadata={
        "description": "ISO 3166-1 alpha-2 region phone numbers are read in when typed without +country"})


class ContactSettingsChangeSchema(StrictSchema):
    # The regions phonenumbers knows, stated as an enum so clients see them (lower case is accepted too)
    default_phone_region = fields.String(required=True, validate=validate.Length(equal=2),
                                         metadata={"enum": sorted(phonenumbers.SUPPORTED_REGIONS)})


@bp.get("")
@operation("The account's contact settings", tags=TAGS, responses={200: ContactSettingsSchema},
           operation_id="getContactSettings")
def get_settings():
    region = handlers.account_phone_region(account_id(), current_container().unit_of_work())
    return {"default_phone_region": region or current_container().settings["DEFAULT_PHONE_REGION"]}


@bp.put("")
@operation("Change the account's contact settings (numbers stored already keep their E.164 form)", tags=TAGS,
           request_schema=ContactSettingsChangeSchema, responses={200: ContactSettingsSchema}, problems=(415, 422),
           operation_id="changeContactSettings")
def change_settings():
    data = ContactSettingsChangeSchema().load(json_body())
    region = current_container().bus.handle(commands.SetPhoneRegion(account_id(), data["default_phone_region"]))
    return {"default_phone_region": region}
