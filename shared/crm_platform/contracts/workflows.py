"""`workflows.events`, produced by the workflows service: boards with their stages, cards on them, tasks with
their reminders, and each account's workflows settings.

Every event carries its aggregate's whole state after the change. A card's title,
description and lost reason travel in `personal`, sealed with the key
`workflows-subject:<main contact id>`; a task's title and notes likewise under its
contact's key (`contact_id`: the linked contact, or the linked card's main contact),
or `workflows-task:<task id>` when it is about nobody known. The account's
notification address is sealed under `account:<account id>`.
"""
from __future__ import annotations

from marshmallow import fields, validate

from crm_platform.contracts import EventContract, PayloadSchema, SealedField, Topic, id_list, optional_id, required_id
from crm_platform.contracts.privacy import PRIVACY_REPLY_CONTRACTS


class _StageSchema(PayloadSchema):
    id = required_id()
    name = fields.String(required=True)
    stale_after_days = fields.Integer(required=True, allow_none=True)


class BoardStatePayload(PayloadSchema):
    name = fields.String(required=True)
    stages = fields.List(fields.Nested(_StageSchema), required=True)
    won_label = fields.String(required=True)
    lost_label = fields.String(required=True)


class StagePayload(BoardStatePayload):
    stage_id = required_id()


class StageRemovedPayload(StagePayload):
    cards_moved_to = fields.String(load_default=None, allow_none=True)


class CardStatePayload(PayloadSchema):
    board_id = required_id()
    stage_id = required_id()
    position = fields.String(required=True, metadata={"description": "orders the stage's cards as strings"})
    contact_id = required_id()
    other_contact_ids = id_list()
    status = fields.String(required=True, validate=validate.OneOf(("open", "won", "lost", "archived")))
    created_at = fields.String(required=True)
    moved_at = fields.String(required=True)
    value = fields.String(load_default=None, metadata={"description": "a decimal, as a string"})
    currency = fields.String(load_default=None)
    due_on = fields.String(load_default=None)
    linked_document = fields.String(load_default=None)
    personal = SealedField(required=True, metadata={"description": "title, description, lost_reason"})


class CardMovedPayload(CardStatePayload):
    from_stage_id = optional_id()


class _ReminderSchema(PayloadSchema):
    before = fields.String(required=True, metadata={"description": "ISO 8601 duration before due_at, e.g. P1D"})
    at = fields.String(required=True, metadata={"description": "the instant it fires, UTC"})


class TaskStatePayload(PayloadSchema):
    due_at = fields.String(required=True, metadata={"description": "UTC, ISO 8601"})
    time_zone = fields.String(load_default=None, metadata={"description": "the task's own (IANA); none: the account's"})
    reminder_time_zone = fields.String(required=True, metadata={"description": "the zone reminders' days count in"})
    link_kind = fields.String(load_default=None, validate=validate.OneOf(("contact", "card", "invoice", "quote")))
    link_id = optional_id()
    contact_id = optional_id(metadata={"description": "whom it is about (seals title, notes)"})
    assignee = fields.String(load_default=None)
    reminders = fields.List(fields.Nested(_ReminderSchema), required=True)
    reminders_after = fields.String(required=True, metadata={"description": "reminders before it never fire"})
    fired = fields.List(fields.String(), required=True, metadata={"description": "<before>@<at> of those fired"})
    status = fields.String(required=True, validate=validate.OneOf(("open", "done")))
    created_at = fields.String(required=True)
    completed_at = fields.String(load_default=None)
    deleted = fields.Boolean(required=True)
    personal = SealedField(required=True, metadata={"description": "title, notes"})


class TaskRescheduledPayload(TaskStatePayload):
    previous_due_at = fields.String(load_default=None)


class TaskReminderDuePayload(TaskStatePayload):
    reminder = fields.String(required=True)
    remind_at = fields.String(required=True)
    fired_at = fields.String(required=True)
    late = fields.Boolean(required=True, metadata={"description": "fired more than 60 s after its time"})


class WorkflowSettingsPayload(PayloadSchema):
    time_zone = fields.String(required=True)
    personal = SealedField(required=True, metadata={"description": "notification_email"})


WORKFLOWS_EVENTS = Topic("workflows.events", producer="workflows", events=(
    EventContract("BoardCreated", BoardStatePayload),
    EventContract("BoardRenamed", BoardStatePayload),
    EventContract("StageAdded", StagePayload),
    EventContract("StageChanged", StagePayload),
    EventContract("StagesReordered", BoardStatePayload),
    EventContract("StageRemoved", StageRemovedPayload),
    EventContract("CardCreated", CardStatePayload),
    EventContract("CardEdited", CardStatePayload),
    EventContract("CardMoved", CardMovedPayload),
    EventContract("CardRepositioned", CardStatePayload),
    EventContract("CardWon", CardStatePayload),
    EventContract("CardLost", CardStatePayload),
    EventContract("CardArchived", CardStatePayload),
    EventContract("CardContactsRelinked", CardStatePayload),
    EventContract("CardPersonalDataErased", CardStatePayload),
    EventContract("TaskCreated", TaskStatePayload),
    EventContract("TaskUpdated", TaskStatePayload),
    EventContract("TaskRescheduled", TaskRescheduledPayload),
    EventContract("TaskCompleted", TaskStatePayload),
    EventContract("TaskReopened", TaskStatePayload),
    EventContract("TaskDeleted", TaskStatePayload),
    EventContract("TaskReminderDue", TaskReminderDuePayload),
    EventContract("TaskPersonalDataErased", TaskStatePayload),
    EventContract("WorkflowSettingsChanged", WorkflowSettingsPayload),
    *PRIVACY_REPLY_CONTRACTS,  # its answers to privacy requests (issue 13)
))
