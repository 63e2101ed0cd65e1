"""Request and response schemas of tasks and the workflows settings: every bad field is a 422 naming it."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from crm_platform.http_schemas import PageQuerySchema, StrictSchema

from workflows.domain.reminders import MAX_REMINDERS
from workflows.domain.tasks import MAX_ASSIGNEE, MAX_NOTES, MAX_TITLE, TASK_STATUSES
from workflows.entrypoints.schemas import _id

LINK_FIELDS = ("contact_id", "card_id", "invoice_id", "quote_id")
_ZONE = {"description": "IANA time zone, e.g. Europe/Paris"}


class EmailAddress(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return validate_email(text.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationError(f"not an e-mail address: {exc}") from None


class WorkflowSettingsSchema(Schema):
    revision = fields.Integer(required=True, metadata={"description": "0 while the account uses the defaults"})
    time_zone = fields.String(required=True, metadata=_ZONE)
    notification_email = fields.String(allow_none=True, required=True,
                                       metadata={"description": "where task reminders are sent (none: no e-mail)"})


class WorkflowSettingsPutSchema(StrictSchema):
    revision = fields.Integer(strict=True, validate=validate.Range(min=0),
                              metadata={"description": "the revision read (or send If-Match); 409 when stale"})
    time_zone = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata=_ZONE)
    notification_email = EmailAddress(load_default=None, allow_none=True, validate=validate.Length(max=320))


class ReminderSchema(StrictSchema):
    before = fields.String(required=True, validate=validate.Length(min=2, max=40), metadata={
        "description": "ISO 8601 duration before the due time: days count on the local calendar, hours and "
                       "minutes are absolute (P1D, PT1H, P1DT2H)"})


class ReminderShownSchema(Schema):
    before = fields.String(required=True)
    at = fields.String(required=True, metadata={"description": "when it fires (UTC)"})


class _TaskFieldsSchema(StrictSchema):
    title = fields.String(validate=validate.Length(min=1, max=MAX_TITLE))
    notes = fields.String(validate=validate.Length(max=MAX_NOTES))
    time_zone = fields.String(allow_none=True, validate=validate.Length(min=1, max=100),
                              metadata={**_ZONE, "description": "the task's own (none: the account's)"})
    assignee = fields.String(allow_none=True, validate=validate.Length(max=MAX_ASSIGNEE))
    reminders = fields.List(fields.Nested(ReminderSchema), validate=validate.Length(max=MAX_REMINDERS))
    contact_id = _id(allow_none=True)
    # one link at most: the example links the contact only
    card_id = _id(allow_none=True, metadata={"example": None})
    invoice_id = _id(allow_none=True, metadata={"example": None})
    quote_id = _id(allow_none=True, metadata={"example": None})

    @validates_schema
    def _one_link_at_most(self, data, **kwargs):
        linked = [name for name in LINK_FIELDS if data.get(name) is not None]
        if len(linked) > 1:
            raise ValidationError("a task links one contact, card, invoice or quote at most", linked[1])


class TaskCreateSchema(_TaskFieldsSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TITLE))
    due_at = fields.AwareDateTime(required=True, metadata={"description": "date-time with its offset"})


class TaskPatchSchema(_TaskFieldsSchema):
    revision = fields.Integer(strict=True, validate=validate.Range(min=1),
                              metadata={"description": "the revision read (or send If-Match); 409 when stale"})


class TaskRescheduleSchema(StrictSchema):
    revision = fields.Integer(strict=True, validate=validate.Range(min=1))
    due_at = fields.AwareDateTime(required=True)
    time_zone = fields.String(allow_none=True, validate=validate.Length(min=1, max=100),
                              metadata={**_ZONE, "description": "absent: unchanged; null: the account's"})


class TaskActionSchema(StrictSchema):
    revision = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))


class TaskQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(TASK_STATUSES))
    due = fields.String(load_default=None, validate=validate.OneOf(("upcoming", "overdue")),
                        metadata={"description": "open tasks due from now on, or past due"})
    contact_id = _id(load_default=None)
    card_id = _id(load_default=None)


class TaskSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    title = fields.String(required=True)
    notes = fields.String(required=True)
    due_at = fields.String(required=True, metadata={"description": "UTC"})
    due_at_local = fields.String(required=True, metadata={"description": "in the time zone it is shown in"})
    time_zone = fields.String(allow_none=True, metadata={"description": "its own; none: the account's"})
    shown_in_time_zone = fields.String(required=True)
    contact_id = fields.String(allow_none=True)
    card_id = fields.String(allow_none=True)
    invoice_id = fields.String(allow_none=True)
    quote_id = fields.String(allow_none=True)
    about_contact_id = fields.String(allow_none=True, metadata={"description": "the contact it is about (a card's)"})
    assignee = fields.String(allow_none=True)
    reminders = fields.List(fields.Nested(ReminderShownSchema), required=True)
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATUSES))
    created_at = fields.String(required=True)
    completed_at = fields.String(allow_none=True)
    overdue = fields.Boolean(required=True)


class TaskPageSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema), required=True)
    next_cursor = fields.String(allow_none=True)

