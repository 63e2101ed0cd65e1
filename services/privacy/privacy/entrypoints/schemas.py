"""Request and response schemas of the privacy API (marshmallow): every bad field is a 422 naming it."""
from __future__ import annotations

import phonenumbers
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from crm_platform.contracts.privacy import ERASURE_OUTCOMES, RESTRICTED
from crm_platform.http_schemas import PageQuerySchema, StrictSchema

from privacy.domain.requests import REJECTIONS, REQUEST_TYPES, STATUSES
from privacy.domain.verification import RESULTS

MAX_ID = 200
OUTCOMES = (*ERASURE_OUTCOMES, "exported", RESTRICTED)  # "exported": a part of an access request's export
# a number typed without its +country code is read as French, as contacts reads it by default
# (contacts' DEFAULT_PHONE_REGION); contacts keeps every number in E.164, which is what is compared
DEFAULT_PHONE_REGION = "FR"
SUBJECT_FIELDS = ("contact_id", "email", "phone")


class PhoneNumber(fields.String):
    """A phone number, loaded in E.164 (+33612345678) the way contacts normalises it (phonenumbers)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parsed = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            raise ValidationError("not a phone number") from None
        if not phonenumbers.is_possible_number(parsed):
            raise ValidationError("not a possible phone number")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class SubjectSchema(StrictSchema):
    """Exactly one of: a contact, an email address or a phone number (their holders are then listed for
    confirmation)."""

    contact_id = fields.String(validate=validate.Length(min=1, max=MAX_ID))
    email = fields.Email(validate=validate.Length(max=320))
    phone = PhoneNumber(validate=validate.Length(min=1, max=40), metadata={
        "description": "with its +country code, or French without; compared in E.164"})

    @validates_schema
    def _one_way_to_name_the_person(self, data, **kwargs):
        given = [name for name in SUBJECT_FIELDS if name in data]
        if len(given) != 1:
            raise ValidationError("give the subject's contact_id, email or phone, one of them",
                                  given[-1] if given else "contact_id")


class ConfirmSubjectSchema(StrictSchema):
    contact_ids = fields.List(fields.String(validate=validate.Length(min=1, max=MAX_ID)), required=True,
                              validate=validate.Length(min=1, max=100),
                              metadata={"description": "the contacts, among those listed, that are the person"})


class RejectSchema(StrictSchema):
    why = fields.String(required=True, validate=validate.OneOf(REJECTIONS))


class PrivacyRequestCreateSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(REQUEST_TYPES))
    subject = fields.Nested(SubjectSchema, required=True, metadata={"example": {"email": "camille@example.com"}})
    requester = fields.String(required=True, validate=validate.Length(min=1, max=200),
                              metadata={"description": "who asked (the person, their lawyer...): kept sealed"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "why, and how the requester's identity was checked: kept sealed"})


class PrivacyRequestQuerySchema(PageQuerySchema):
    type = fields.String(load_default=None, validate=validate.OneOf(REQUEST_TYPES))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class ServiceProgressSchema(Schema):
    service = fields.String(required=True)
    asked = fields.Boolean(required=True)
    answered = fields.Boolean(required=True)
    answered_at = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True, validate=validate.OneOf(OUTCOMES), metadata={
        "description": "erasure: erased, anonymised, retained, nothing_held; export: exported, nothing_held; "
                       "restriction: restricted"})
    item_count = fields.Integer(allow_none=True)
    items_erased = fields.Integer(allow_none=True)
    keys_destroyed = fields.List(fields.String())
    retained = fields.List(fields.Dict())


class AuditEntrySchema(Schema):
    what = fields.String(required=True)
    when = fields.String(required=True)
    actor = fields.String(allow_none=True)
    details = fields.Dict(required=True)


class ExportStateSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(("pending", "ready", "expired")))
    size = fields.Integer(allow_none=True)
    expires_at = fields.String(allow_none=True)


class VerificationSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(("pending", "rescanning", "done")), metadata={
        "description": "pending: no scan made since the erasure ended (or its last reply); rescanning: a scan "
                       "found something and is made again at next_scan_at; done"})
    values_checked = fields.Integer(required=True, metadata={
        "description": "how many values known of the subject before the erasure are looked for (never which)"})
    result = fields.String(validate=validate.OneOf(RESULTS),
                           metadata={"description": "passed: none readable anywhere; failed (or unverifiable: the "
                                                    "scan could not be made): the request is partially_completed"})
    readable_occurrences = fields.Integer()
    places = fields.List(fields.String(), metadata={
        "description": "database.collection or topic/partition/offset of each (at most 50)"})
    next_scan_at = fields.String(allow_none=True)
    values_shredded = fields.Boolean(metadata={"description": "the values' key shredded after the last scan"})
    databases = fields.List(fields.String())
    topics = fields.List(fields.String())
    documents_scanned = fields.Integer()
    records_scanned = fields.Integer()
    verified_at = fields.String()


class PrivacyRequestSummarySchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    status = fields.String(required=True)
    contact_id = fields.String(allow_none=True, metadata={
        "description": "null when the subject was named by email or phone"})
    received_at = fields.String(required=True)
    deadline = fields.String(required=True)
    completed_at = fields.String(allow_none=True)
    lifted_at = fields.String(allow_none=True, metadata={"description": "a restriction's, once lifted"})


class PrivacyRequestSchema(PrivacyRequestSummarySchema):
    revision = fields.Integer(required=True)
    contact_ids = fields.List(fields.String(), required=True)
    requester = fields.String(required=True, allow_none=True,
                              metadata={"description": "null once the record is shredded, at the end of retention"})
    reason = fields.String(required=True, allow_none=True, metadata={"description": "null once shredded"})
    email = fields.String(allow_none=True, metadata={
        "description": "the email naming the subject; null once an erasure of them completes, or shredded"})
    email_hash = fields.String(allow_none=True, metadata={"description": "keyed hash of that email"})
    phone = fields.String(allow_none=True, metadata={
        "description": "the phone (E.164) naming the subject; null once an erasure of them completes, or shredded"})
    phone_hash = fields.String(allow_none=True, metadata={"description": "keyed hash of that phone"})
    record_shredded = fields.Boolean(required=True, metadata={
        "description": "requester, reason and email shredded, PRIVACY_REQUEST_RETENTION_DAYS after the end"})
    candidates = fields.List(fields.String(), required=True,
                             metadata={"description": "contacts holding the email or phone, awaiting confirmation"})
    rejection = fields.String(allow_none=True)
    requested_at = fields.String(allow_none=True)
    services = fields.List(fields.Nested(ServiceProgressSchema), required=True)
    missing_services = fields.List(fields.String(), required=True)
    failed_parts = fields.List(fields.String(), required=True, metadata={
        "description": "services whose export part could not be put in the ZIP (after bounded attempts)"})
    export = fields.Nested(ExportStateSchema, allow_none=True)
    verification = fields.Nested(VerificationSchema, allow_none=True, metadata={
        "description": "an erasure's scan of every database and topic for the subject's values, after it"})
    audit_trail = fields.List(fields.Nested(AuditEntrySchema), required=True)


class PrivacyRequestPageSchema(Schema):
    items = fields.List(fields.Nested(PrivacyRequestSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class CertificateSchema(Schema):
    class Meta:
        unknown = "include"

    request_id = fields.String(required=True)
    subject_hash = fields.String(required=True)
    signature = fields.Dict(required=True)


class PublicKeySchema(Schema):
    algorithm = fields.String(required=True)
    key_id = fields.String(required=True)
    public_key = fields.String(required=True)
