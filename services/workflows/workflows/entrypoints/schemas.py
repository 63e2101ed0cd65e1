"""Request and response schemas of the workflows API (marshmallow): every bad field is a 422 naming it."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from crm_platform.http_schemas import PageQuerySchema, StrictSchema

from workflows.domain.boards import MAX_NAME_LENGTH, MAX_STAGES
from workflows.domain.cards import MAX_OTHER_CONTACTS, STATUSES

MAX_ID = 200
MAX_DESCRIPTION = 10_000


def _id(**kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=MAX_ID), **kwargs)


def _name(**kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=MAX_NAME_LENGTH), **kwargs)


class DecimalText(fields.String):
    """An amount as a decimal string ("1500.50"): a JSON number is refused, as a float may already have lost cents."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("a decimal as a string, such as \"1500.50\" (numbers lose precision)")
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError("not a decimal number") from None
        if not amount.is_finite() or amount < 0 or amount >= 10**15 or amount.as_tuple().exponent < -4:
            raise ValidationError("a non-negative amount below 10^15 with at most 4 decimals")
        return format(amount.copy_abs(), "f")  # "-0" is zero: stored and compared as "0"


_stale_days = validate.Range(min=1, max=3650)


class BoardCreateSchema(StrictSchema):
    name = _name(required=True)
    stages = fields.List(_name(), required=True, validate=validate.Length(min=1, max=MAX_STAGES))
    won_label = _name(load_default="Gagné")
    lost_label = _name(load_default="Perdu")


class BoardPatchSchema(StrictSchema):
    name = _name()
    won_label = _name()
    lost_label = _name()


class StageCreateSchema(StrictSchema):
    name = _name(required=True)
    stale_after_days = fields.Integer(load_default=None, allow_none=True, validate=_stale_days)
    index = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_STAGES))


class StagePatchSchema(StrictSchema):
    name = _name()
    stale_after_days = fields.Integer(allow_none=True, validate=_stale_days)


class StageOrderSchema(StrictSchema):
    stage_ids = fields.List(_id(), required=True, validate=validate.Length(min=1, max=MAX_STAGES))


class StageRemoveQuerySchema(StrictSchema):
    move_cards_to = _id(load_default=None)


class ColumnsQuerySchema(PageQuerySchema):
    stage_id = _id(load_default=None, metadata={"description": "one column only (with `cursor`: its next page)"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))

    @validates_schema
    def _a_cursor_is_one_columns(self, data, **kwargs):
        if data.get("cursor") and not data.get("stage_id"):
            raise ValidationError("a cursor pages one column: give its stage_id too", "cursor")


class StageSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    stale_after_days = fields.Integer(allow_none=True)


class BoardSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    name = fields.String(required=True)
    stages = fields.List(fields.Nested(StageSchema), required=True)
    won_label = fields.String(required=True)
    lost_label = fields.String(required=True)


class BoardPageSchema(Schema):
    items = fields.List(fields.Nested(BoardSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class CardFieldsSchema(StrictSchema):
    title = fields.String(validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    description = fields.String(validate=validate.Length(max=MAX_DESCRIPTION))
    contact_id = _id()
    other_contact_ids = fields.List(_id(), validate=validate.Length(max=MAX_OTHER_CONTACTS))
    value = DecimalText(allow_none=True, metadata={"example": "1200.00"})
    currency = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code such as EUR"))
    due_on = fields.Date(allow_none=True)
    linked_document = fields.String(allow_none=True, validate=validate.Length(min=1, max=MAX_ID))


class CardCreateSchema(CardFieldsSchema):
    board_id = _id(required=True)
    stage_id = _id(load_default=None)
    title = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    contact_id = _id(required=True)


class CardPatchSchema(CardFieldsSchema):
    revision = fields.Integer(required=True, validate=validate.Range(min=1))

    @validates_schema
    def _main_contact_stays(self, data, **kwargs):
        if "contact_id" in data and data["contact_id"] is None:
            raise ValidationError("a card keeps a main contact", "contact_id")


class CardMoveSchema(StrictSchema):
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    stage_id = _id(required=True)
    after = _id(load_default=None, allow_none=True)
    before = _id(load_default=None, allow_none=True)


class CardOutcomeSchema(StrictSchema):
    revision = fields.Integer(load_default=None, validate=validate.Range(min=1))


class CardLostSchema(CardOutcomeSchema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class CardQuerySchema(PageQuerySchema):
    board_id = _id(load_default=None)
    stage_id = _id(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    contact_id = _id(load_default=None)
    overdue = fields.Boolean(load_default=None)
    stale = fields.Boolean(load_default=None)


class CardSchema(Schema):
    id = fields.String(required=True)
    revision = fields.Integer(required=True)
    board_id = fields.String(required=True)
    stage_id = fields.String(required=True)
    position = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    contact_id = fields.String(required=True)
    other_contact_ids = fields.List(fields.String(), required=True)
    value = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    due_on = fields.String(allow_none=True)
    linked_document = fields.String(allow_none=True)
    status = fields.String(required=True)
    lost_reason = fields.String(allow_none=True)
    created_at = fields.String(required=True)
    moved_at = fields.String(required=True)
    overdue = fields.Boolean(required=True)


class CardPageSchema(Schema):
    items = fields.List(fields.Nested(CardSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class ColumnSchema(Schema):
    stage = fields.Nested(StageSchema, required=True)
    cards = fields.List(fields.Nested(CardSchema), required=True)
    next_cursor = fields.String(allow_none=True)
    count = fields.Integer(required=True)
    totals = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "open cards' value by currency, decimals as strings"})


class ColumnsSchema(Schema):
    board = fields.Nested(BoardSchema, required=True)
    columns = fields.List(fields.Nested(ColumnSchema), required=True)
