"""Published event contracts: every topic, event type, schema version and payload schema another service may read.

A producer's events are tested against these (each encoded event validates);
a consumer imports topic and event names from here, never writes them as
strings, and its codec checks every payload of another service's event against
them as it decodes it (crm_platform.event_codec: a payload that breaks its
contract is bad data, dead-lettered, never half applied). A payload schema
changes only by adding optional fields; anything else is a new schema version
with an upcaster from the previous one.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate

from crm_platform.envelope import MAX_AGGREGATE_ID, NO_CONTROL_CHARACTER

Upcaster = Callable[[dict], dict]  # a payload of version n -> the same payload at version n + 1


@dataclass(frozen=True)
class EventContract:
    name: str
    schema: type[Schema]
    version: int = 1
    upcasters: dict[int, Upcaster] = field(default_factory=dict)  # from version n to n + 1

    def validate(self, payload: dict) -> dict:
        """Problems with a payload its producer publishes, by field (empty when it conforms). Stricter than
        consumers are: a field the contract does not declare is a problem here, so that no field is published
        without being in the contract (consumers ignore such fields: PayloadSchema)."""
        return self.schema(unknown=RAISE).validate(payload)

    def consumer_problems(self, payload: dict) -> dict:
        """Problems with a payload a consumer reads, by field (empty when it conforms): required fields and types
        enforced, fields the contract does not declare ignored (a producer may add optional ones first)."""
        return self._consumer_schema.validate(payload)

    @functools.cached_property
    def _consumer_schema(self) -> Schema:
        # built once per contract, not per event: a schema instance keeps no state between loads
        return self.schema(unknown=INCLUDE)


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str  # the service that publishes it (the registry's name)
    events: tuple[EventContract, ...]

    def contract(self, event_type: str) -> EventContract | None:
        return next((event for event in self.events if event.name == event_type), None)

    @property
    def event_names(self) -> frozenset[str]:
        return frozenset(event.name for event in self.events)


def upcast(event_type: str, schema_version: int, payload: dict) -> dict:
    """The payload brought up to its contract's current version (unchanged when it is current or unknown)."""
    contract = published_contract(event_type)
    if contract is None:
        return payload
    for version in range(schema_version, contract.version):
        payload = contract.upcasters[version](payload)
    return payload


def published_contract(event_type: str) -> EventContract | None:
    """The published contract of an event type (None for an event no topic publishes)."""
    return _contracts_by_name().get(event_type)


@functools.cache
def _contracts_by_name() -> dict[str, EventContract]:
    from crm_platform.contracts.catalog import TOPICS  # imported late: the catalog imports this module

    return {contract.name: contract for topic in TOPICS for contract in topic.events}


class SealedField(fields.Dict):
    """Personal fields sealed with a data subject's key (crm_platform.personal_data)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value.get("sealed") is None or not value.get("subject") or "ciphertext" not in value:
            raise ValidationError("a sealed value: sealed, subject, nonce, ciphertext")
        return value


class PayloadSchema(Schema):
    """Payloads may grow optional fields: consumers ignore what they do not know."""

    class Meta:
        unknown = "include"


_ID_RULES = (validate.Length(min=1, max=MAX_AGGREGATE_ID), NO_CONTROL_CHARACTER)


def required_id() -> fields.String:
    """An id field every payload of the kind must carry."""
    return fields.String(required=True, validate=list(_ID_RULES))


def optional_id(**options) -> fields.String:
    """An id field a payload may leave out or null (held as `required_id` holds one when present)."""
    return fields.String(load_default=None, allow_none=True, validate=list(_ID_RULES), **options)


def id_list(**options) -> fields.List:
    """A required list of ids (each as `required_id` holds one)."""
    return fields.List(fields.String(validate=list(_ID_RULES)), required=True, **options)
