"""Marshmallow schemas of the contacts API: they validate requests and generate the OpenAPI document."""
from __future__ import annotations

from datetime import timezone

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from crm_platform.http_schemas import PageQuerySchema, Rfc3339DateTime, StrictSchema

from contacts.domain.contact_fields import (
    ADDRESS_TAGS,
    DELIVERABILITY_STATUSES,
    EMAIL_TAGS,
    MAX_ENTRIES,
    MAX_STREET_LINES,
    PHONE_TAGS,
    SUBSCRIPTION_STATUSES,
)
from contacts.contact_query import CONDITION_OPERATORS
from contacts.domain.labels import KEY_PATTERN
from contacts.domain.messages import STATUSES as MESSAGE_STATUSES
from contacts.service_layer.message_handlers import FAILURE_REASONS as MESSAGE_FAILURES

NAME = validate.Length(max=200)
ENTRIES = validate.Length(max=MAX_ENTRIES)
SORTABLE = ("created_at", "updated_at", "last_activity", "first_name", "last_name")
AS_OF_QUERY = ("a past moment, an RFC 3339 date-time with its offset: the state then, replayed from the events "
               "recorded at or before it (a moment still to come: the state now). An erased person is not found "
               "at any moment")
AS_OF_ANSWER = ("only on a read with `as_of`: the moment asked for (in UTC). The answer is a past state: it "
                "carries no ETag and cannot be the base of a change")


class EmailSchema(StrictSchema):
    # Syntax and normalisation are checked by the domain (email-validator); here, only the shape.
    address = fields.String(required=True, validate=validate.Length(min=3, max=254))
    tag = fields.String(load_default="main", validate=validate.OneOf(EMAIL_TAGS))
    primary = fields.Boolean(load_default=False)
    subscription_status = fields.String(load_default="not_set", validate=validate.OneOf(SUBSCRIPTION_STATUSES))
    deliverability = fields.String(load_default="not_set", validate=validate.OneOf(DELIVERABILITY_STATUSES))


class PhoneSchema(StrictSchema):
    number = fields.String(required=True, validate=validate.Length(min=3, max=40),
                           metadata={"description": "as typed; read in the account's region when it has no +country code",
                                     "example": "+44 20 7946 0123"})  # Ofcom's range for drama: no one's number
    tag = fields.String(load_default="main", validate=validate.OneOf(PHONE_TAGS))
    primary = fields.Boolean(load_default=False)


class PhoneOutSchema(PhoneSchema):
    e164 = fields.String(metadata={"description": "normalised, e.g. +33320065126"})


class AddressSchema(StrictSchema):
    tag = fields.String(load_default="home", validate=validate.OneOf(ADDRESS_TAGS))
    street = fields.List(fields.String(validate=NAME), validate=validate.Length(max=MAX_STREET_LINES))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))
    city = fields.String(allow_none=True, validate=NAME)
    region = fields.String(allow_none=True, validate=NAME)
    country = fields.String(allow_none=True, validate=validate.Length(equal=2),
                            metadata={"description": "ISO 3166-1 alpha-2, e.g. FR; one of /v1/options/countries"})


class ContactFieldsSchema(StrictSchema):
    first_name = fields.String(allow_none=True, validate=NAME)
    last_name = fields.String(allow_none=True, validate=NAME)
    company = fields.String(allow_none=True, validate=NAME)
    job_title = fields.String(allow_none=True, validate=NAME)
    code = fields.String(allow_none=True, validate=validate.Length(max=64),
                         metadata={"description": "your internal code for the contact"})
    function = fields.String(allow_none=True, validate=validate.Length(max=64),
                             metadata={"description": "key of an option of /v1/options/functions",
                                       "example": None})  # an account's own keys: none a new account has
    department = fields.String(allow_none=True, validate=validate.Length(max=64),
                               metadata={"description": "key of an option of /v1/options/departments",
                                         "example": None})
    vat_number = fields.String(allow_none=True, validate=validate.Length(max=32),
                               metadata={"description": "EU VAT number with its country prefix, e.g. FR40303265045"})
    info_email = fields.String(allow_none=True, validate=validate.Length(max=254),
                               metadata={"description": "an extra address for information mailings"})
    websites = fields.List(fields.String(validate=validate.Length(max=2000)), validate=ENTRIES,
                           metadata={"example": ["https://www.example.com"]})
    emails = fields.List(fields.Nested(EmailSchema), validate=ENTRIES)
    phones = fields.List(fields.Nested(PhoneSchema), validate=ENTRIES)
    addresses = fields.List(fields.Nested(AddressSchema), validate=ENTRIES)
    custom_fields = fields.Dict(
        keys=fields.String(validate=validate.Regexp(KEY_PATTERN)), values=fields.Raw(allow_none=True),
        validate=validate.Length(max=100),
        metadata={"description": "custom field key -> value (text, number, YYYY-MM-DD date or URL); null removes"},
    )


class ContactCreateSchema(ContactFieldsSchema):
    """A new contact: at least a name, a company, an email or a phone."""

    # What Contact.create checks as a whole, stated for clients (crm_platform.openapi.SchemaConstraintsPlugin)
    openapi_constraints = {"anyOf": [
        *({"required": [name], "properties": {name: {"type": "string", "pattern": r"\S"}}}
          for name in ("first_name", "last_name", "company")),
        *({"required": [name], "properties": {name: {"type": "array", "minItems": 1}}} for name in ("emails", "phones")),
    ]}


class ContactPatchSchema(ContactFieldsSchema):
    """Fields to change (lists are replaced whole) and the revision the change is based on."""

    revision = fields.Integer(required=True, validate=validate.Range(min=1))


class ContactSchema(ContactFieldsSchema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    phones = fields.List(fields.Nested(PhoneOutSchema))
    labels = fields.List(fields.String(), metadata={"description": "label keys"})
    created_at = fields.String(required=True)
    updated_at = fields.String(allow_none=True)
    last_activity_at = fields.String(allow_none=True, metadata={
        "description": "time of the latest event about the contact: edits, labels, notes..."})
    as_of = fields.String(metadata={"format": "date-time", "description": AS_OF_ANSWER + (
        "; `last_activity_at` is then the contact's own latest change by then")})


class HistoryMessageSchema(Schema):
    message_id = fields.String(required=True)
    subject = fields.String(required=True)
    to = fields.String(required=True)
    marketing = fields.Boolean(required=True)
    status = fields.String(required=True, metadata={"enum": list(MESSAGE_STATUSES)})
    reason = fields.String(allow_none=True, validate=validate.OneOf(MESSAGE_FAILURES))
    finished_at = fields.String(allow_none=True)


class HistoryEntrySchema(Schema):
    revision = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the contact's revision after the change; null for a message sent to the contact"})
    event_type = fields.String(required=True)
    occurred_at = fields.String(required=True)
    actor = fields.String(allow_none=True)
    changes = fields.Dict(metadata={"description": "field -> {from, to}"})
    message = fields.Nested(HistoryMessageSchema, metadata={
        "description": "on a MessageQueued entry: the message sent to the contact and its delivery status now"})


class HistorySchema(Schema):
    items = fields.List(fields.Nested(HistoryEntrySchema), required=True)


class ContactPageSchema(Schema):
    items = fields.List(fields.Nested(ContactSchema), required=True)
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as `cursor` for the next page"})


class KeyList(fields.String):
    """Comma-separated label keys in a query string: `labels_any=client,vip`."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("metadata", {}).setdefault("pattern", r"^ *([a-z0-9][a-z0-9-]{0,63} *(, *|$))*$")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        keys = [k.strip() for k in super()._deserialize(value, attr, data, **kwargs).split(",") if k.strip()]
        if len(keys) > 20:
            raise ValidationError("at most 20 keys")
        bad = [k for k in keys if not KEY_PATTERN.match(k)]
        if bad:
            raise ValidationError(f"not label keys: {', '.join(bad)}")
        return keys


class FieldList(fields.String):
    """Comma-separated contact fields in a query string: `fields=first_name,emails`."""

    def __init__(self, **kwargs) -> None:
        names = "|".join(sorted(ContactSchema().fields))
        kwargs.setdefault("metadata", {}).setdefault("pattern", rf"^ *(({names}) *(, *|$))*$")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        names = [n.strip() for n in super()._deserialize(value, attr, data, **kwargs).split(",") if n.strip()]
        unknown = sorted(set(names) - set(ContactSchema().fields))
        if unknown:
            raise ValidationError(f"unknown fields: {', '.join(unknown)}")
        return names


class ViewQuerySchema(StrictSchema):
    """What a saved view keeps: the filter, the sort and the columns of a contact list."""

    @pre_load
    def gather_custom_conditions(self, data, **kwargs):
        """`cf.<key>.<op>=<value>` parameters become `custom_conditions`; their values are typed later."""
        data = dict(data)
        conditions, problems = [], {}
        for name in [name for name in data if name.startswith("cf.")]:
            _, _, rest = name.partition(".")
            key, _, op = rest.rpartition(".")
            value = data.pop(name)
            if not KEY_PATTERN.match(key) or op not in CONDITION_OPERATORS:
                problems[name] = [f"use cf.<custom field key>.<{'|'.join(CONDITION_OPERATORS)}>"]
            elif not isinstance(value, str) or len(value) > 1000:
                problems[name] = ["a string of at most 1000 characters"]
            else:
                conditions.append({"key": key, "op": op, "value": value, "param": name})
        if problems:
            raise ValidationError(problems)
        if conditions:
            data["custom_conditions"] = conditions
        return data

    q = fields.String(load_default=None, validate=validate.Length(min=1, max=100), metadata={
        "description": "the start of words of a name, company, job title, code or email (every word typed "
                       "must match), or a phone number's first or last digits; accents and case do not matter"})
    labels_any = KeyList(load_default=list, metadata={"description": "contacts with at least one of these labels"})
    labels_all = KeyList(load_default=list, metadata={"description": "contacts with all of these labels"})
    labels_none = KeyList(load_default=list, metadata={"description": "contacts with none of these labels"})
    subscription_status = fields.String(load_default=None, validate=validate.OneOf(SUBSCRIPTION_STATUSES),
                                        metadata={"description": "an email of the contact has this status"})
    deliverability = fields.String(load_default=None, validate=validate.OneOf(DELIVERABILITY_STATUSES))
    country = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z]{2}$"),
                            metadata={"description": "an address of the contact is in this country (ISO code)"})
    function = KeyList(load_default=list, metadata={"description": "contacts with one of these function keys"})
    department = KeyList(load_default=list, metadata={"description": "contacts in one of these department keys"})
    custom_conditions = fields.List(fields.Dict(), load_default=list, dump_only=False, metadata={
        "x-not-a-parameter": True,  # left out of the OpenAPI parameters (crm_platform.openapi)
        "description": "not a parameter itself: give conditions on custom fields as `cf.<key>.<operator>=<value>`, "
                       f"operators {', '.join(CONDITION_OPERATORS)} (`in` takes comma-separated values, "
                       "`exists` true or false), e.g. `cf.budget.gt=1000&cf.secteur.in=bois,papier`"})
    created_after = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc,
                                         metadata={"description": "created at or after (ISO 8601)"})
    created_before = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)
    updated_after = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc,
                                         metadata={"description": "last activity at or after (ISO 8601)"})
    updated_before = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(
        [f"{sign}{name}" for name in SORTABLE for sign in ("", "-")]))
    fields_ = FieldList(data_key="fields", load_default=None, metadata={
        "description": "comma-separated fields to return (id and revision always come): the list's columns"})


class ContactListQuerySchema(PageQuerySchema, ViewQuerySchema):
    # PageQuerySchema first: its fields then follow the filter's, as the OpenAPI parameters always listed them.
    view = fields.String(load_default=None, validate=validate.Length(max=100), metadata={
        "description": "id of a saved view: its filter, sort and columns apply; other parameters override them"})


class WriteQuerySchema(StrictSchema):
    allow_duplicates = fields.Boolean(load_default=False, metadata={
        "description": "store the contact even if another one of the account has the same email or phone"})


class MergeSchema(StrictSchema):
    source_ids = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                             validate=validate.Length(min=1, max=5),
                             metadata={"description": "1 to 5 contacts merged into this one, then deleted"})
    revision = fields.Integer(load_default=None, validate=validate.Range(min=1),
                              metadata={"description": "the target's revision the merge is based on (409 if stale)"})


class ContactReadQuerySchema(StrictSchema):
    as_of = Rfc3339DateTime(load_default=None, metadata={"description": AS_OF_QUERY})


class NotesAsOfQuerySchema(PageQuerySchema):
    as_of = Rfc3339DateTime(load_default=None, metadata={"description": AS_OF_QUERY})


class DeleteQuerySchema(StrictSchema):
    revision = fields.Integer(load_default=None, validate=validate.Range(min=1))


class ErasureSchema(Schema):
    erased_contact_ids = fields.List(fields.String(), required=True, metadata={
        "description": "the contact and every contact merged with it: one person, erased together"})
