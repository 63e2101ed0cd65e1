"""`workflows.events`, produced by the workflows service: boards with their stages, and cards on them.

Every event carries its aggregate's whole state after the change. A card's title,
description and lost reason travel in `personal`, sealed with the key
`workflows-subject:<main contact id>`.
"""
from __future__ import annotations

from marshmallow import fields, validate

from crm_platform.contracts import EventContract, PayloadSchema, SealedField, Topic, required_id
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
    other_contact_ids = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(("open", "won", "lost", "archived")))
    created_at = fields.String(required=True)
    moved_at = fields.String(required=True)
    value = fields.String(load_default=None, metadata={"description": "a decimal, as a string"})
    currency = fields.String(load_default=None)
    due_on = fields.String(load_default=None)
    linked_document = fields.String(load_default=None)
    personal = SealedField(required=True, metadata={"description": "title, description, lost_reason"})


class CardMovedPayload(CardStatePayload):
    from_stage_id = fields.String(load_default=None)


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
    *PRIVACY_REPLY_CONTRACTS,  # its answers to privacy requests (issue 13)
))
