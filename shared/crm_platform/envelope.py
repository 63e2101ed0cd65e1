"""The event envelope: the one contract every service publishes and consumes.

Envelopes travel as JSON on Kafka (one topic per producing service, keyed by
aggregate id) and are stored, in the same shape, in each service's event store.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from crm_platform import request_context

MAX_AGGREGATE_ID = 200
EVENT_TYPE_PATTERN = r"^[A-Z][A-Za-z0-9]+$"
# An id names a document on every MongoDB-protocol server: FerretDB on PostgreSQL refuses a NUL byte in a
# value that MongoDB stores, so an id with a control character would be applied on one and refused on the other.
NO_CONTROL_CHARACTER = validate.Regexp(r"^[^\x00-\x1f\x7f]*$", error="an id holds no control character")


@dataclass(frozen=True)
class EventEnvelope:
    event_type: str
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int
    account_id: str
    payload: dict
    event_id: str = field(default_factory=request_context.new_id)
    schema_version: int = 1
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None

    def to_dict(self) -> dict:
        """The JSON-ready form (ISO-8601 UTC timestamp)."""
        return ENVELOPE_SCHEMA.dump(self)

    def to_json_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()

    def with_payload(self, payload: dict) -> "EventEnvelope":
        return dataclasses.replace(self, payload=payload)


def new_envelope(
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str,
    aggregate_version: int,
    account_id: str,
    payload: dict,
    schema_version: int = 1,
) -> EventEnvelope:
    """An envelope stamped with the current request's correlation, causation and actor."""
    trace = request_context.current()
    return EventEnvelope(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        account_id=account_id,
        payload=payload,
        schema_version=schema_version,
        correlation_id=trace.correlation_id,
        causation_id=trace.causation_id or trace.request_id,
        actor=trace.actor,
    )


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # newer producers may add envelope fields

    event_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    event_type = fields.String(required=True, validate=validate.Regexp(EVENT_TYPE_PATTERN))
    schema_version = fields.Integer(required=True, validate=validate.Range(min=1))
    aggregate_type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    # label:<account id>:<key> and other composed ids run past 64 characters
    aggregate_id = fields.String(required=True,
                                 validate=[validate.Length(min=1, max=MAX_AGGREGATE_ID), NO_CONTROL_CHARACTER])
    aggregate_version = fields.Integer(required=True, validate=validate.Range(min=1))
    account_id = fields.String(required=True, validate=[validate.Length(min=1, max=64), NO_CONTROL_CHARACTER])
    occurred_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    correlation_id = fields.String(allow_none=True, load_default=None)
    causation_id = fields.String(allow_none=True, load_default=None)
    actor = fields.String(allow_none=True, load_default=None)
    payload = fields.Dict(required=True)

    @post_load
    def _make(self, data: dict, **_: object) -> EventEnvelope:
        return EventEnvelope(**data)


ENVELOPE_SCHEMA = EnvelopeSchema()


class MalformedEvent(ValueError):
    """Bytes on a topic that are not a valid envelope."""


def envelope_from_dict(data: dict) -> EventEnvelope:
    try:
        return ENVELOPE_SCHEMA.load(data)
    except ValidationError as exc:
        raise MalformedEvent(f"invalid envelope: {exc.messages}") from None


def envelope_from_json_bytes(raw: bytes) -> EventEnvelope:
    """Parse and validate an envelope read from Kafka; MalformedEvent if it is not one."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent(f"not JSON: {exc}") from None
    except RecursionError:  # else it escapes the consumer's poll: the loop reconnects and reads it again, forever
        raise MalformedEvent("nested too deeply to read") from None
    if not isinstance(data, dict):
        raise MalformedEvent("not a JSON object")
    return envelope_from_dict(data)
