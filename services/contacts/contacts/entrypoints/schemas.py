"""Marshmallow schemas of the contacts API: they validate requests and generate the OpenAPI document."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from contacts.domain.model import MAX_EMAILS, MAX_PHONES

NAME = validate.Length(max=200)
EMAIL_TAGS = ("main", "home", "work", "other")
PHONE_TAGS = ("main", "home", "work", "mobile", "direct_line", "fax", "other")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE  # a misspelled field is an error, never silently dropped


class EmailSchema(StrictSchema):
    address = fields.Email(required=True, validate=validate.Length(max=254))
    tag = fields.String(load_default="main", validate=validate.OneOf(EMAIL_TAGS))
    primary = fields.Boolean(load_default=False)


class PhoneSchema(StrictSchema):
    number = fields.String(
        required=True,
        validate=validate.Regexp(r"^\+?[0-9 ().\-/]{3,40}$", error="must be a phone number (digits, spaces, + ( ) . - /)"),
    )
    tag = fields.String(load_default="main", validate=validate.OneOf(PHONE_TAGS))
    primary = fields.Boolean(load_default=False)


class ContactFieldsSchema(StrictSchema):
    first_name = fields.String(allow_none=True, validate=NAME)
    last_name = fields.String(allow_none=True, validate=NAME)
    company = fields.String(allow_none=True, validate=NAME)
    emails = fields.List(fields.Nested(EmailSchema), validate=validate.Length(max=MAX_EMAILS))
    phones = fields.List(fields.Nested(PhoneSchema), validate=validate.Length(max=MAX_PHONES))


class ContactCreateSchema(ContactFieldsSchema):
    """A new contact: at least a name, a company, an email or a phone."""


class ContactPatchSchema(ContactFieldsSchema):
    """Fields to change (lists are replaced whole) and the revision the change is based on."""

    revision = fields.Integer(required=True, validate=validate.Range(min=1))


class ContactSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    company = fields.String(allow_none=True)
    emails = fields.List(fields.Nested(EmailSchema))
    phones = fields.List(fields.Nested(PhoneSchema))
    created_at = fields.String(required=True)
    updated_at = fields.String(allow_none=True)


class ContactPageSchema(Schema):
    items = fields.List(fields.Nested(ContactSchema), required=True)
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as `cursor` for the next page"})


class ContactListQuerySchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


class DeleteQuerySchema(StrictSchema):
    revision = fields.Integer(load_default=None, validate=validate.Range(min=1))
