"""One codec for every aggregate: domain events <-> envelopes, personal fields sealed under the subject's key.

The payload is the event's fields but the envelope's own (account_id and the
aggregate id field); optional fields left at None are omitted. Fields named in
`personal_fields` travel in `payload["personal"]`, sealed with the data
subject's key, so that shredding that key makes them unreadable in every
stored and published copy. A few fields are stored in another shape than the
domain holds them (an event class's `stored_as`, e.g. a dict whose keys MongoDB refuses).
"""
from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterable

from crm_platform import contracts
from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.envelope import EventEnvelope, MalformedEvent, new_envelope
from crm_platform.personal_data import PersonalDataCipher

class UnknownEventType(MalformedEvent):
    """An envelope whose event type this codec does not know."""


class EventCodec:
    """Translates the events of some aggregate types (or of a topic's contract) to and from envelopes."""

    def __init__(self, event_classes: Iterable[type[DomainEvent]], cipher: PersonalDataCipher | None = None) -> None:
        self._classes = {cls.event_type(): cls for cls in event_classes}
        self._cipher = cipher

    @classmethod
    def for_aggregates(cls, aggregates: Iterable[type[Aggregate]],
                       cipher: PersonalDataCipher | None = None) -> "EventCodec":
        """A codec for every event of these aggregate types."""
        return cls([event for aggregate in aggregates for event in aggregate.event_classes], cipher)

    def knows(self, event_type: str) -> bool:
        return event_type in self._classes

    def sealing(self, events: Iterable[DomainEvent]) -> contextlib.AbstractContextManager:
        """A block in which these events' subject keys are read (or created) in one query, not one per event."""
        subjects = sorted({event.subject() for event in events if event.personal_fields})
        if not subjects:
            return contextlib.nullcontext()
        return self._require_cipher().keys_ready(subjects, create=True)

    def to_envelope(self, event: DomainEvent, aggregate_type: str, aggregate_id: str, version: int,
                    account_id: str) -> EventEnvelope:
        """The envelope that stores and publishes `event` as `version` of the aggregate."""
        return new_envelope(event_type=event.event_type(), aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                            aggregate_version=version, account_id=account_id, payload=self.payload(event),
                            schema_version=event.schema_version)

    def payload(self, event: DomainEvent) -> dict:
        """The event's published payload, its personal fields sealed."""
        cls = type(event)
        skipped = {cls.aggregate_id_field, None if cls.account_id_in_payload else "account_id"}
        payload = {}
        for field in dataclasses.fields(event):
            value = getattr(event, field.name)
            if field.name in skipped or (value is None and field.default is None):
                continue
            shape = cls.stored_as.get(field.name)
            payload[field.name] = shape[0](value) if shape else _copy(value)
        personal, sealing = {}, False
        for path in cls.personal_fields:
            container, _, key = path.rpartition(".")
            if container and isinstance(payload.get(container), dict):
                sealing = True
                if key in payload[container]:
                    personal[key] = payload[container].pop(key)
            elif not container and any(f.name == key for f in dataclasses.fields(event)):
                sealing = True
                if key in payload:
                    personal[key] = payload.pop(key)
        if sealing:
            payload["personal"] = self._require_cipher().seal(event.subject(), personal)
        return payload

    def from_envelope(self, envelope: EventEnvelope) -> DomainEvent:
        """The domain event; SubjectErased if its personal fields were shredded, UnknownEventType if not ours."""
        cls = self._classes.get(envelope.event_type)
        if cls is None:
            raise UnknownEventType(f"unknown event type {envelope.event_type!r}")
        payload = contracts.upcast(envelope.event_type, envelope.schema_version, dict(envelope.payload))
        sealed = payload.pop("personal", None)
        if sealed is not None:
            inside = {path.rpartition(".")[2]: path.rpartition(".")[0] for path in cls.personal_fields}
            for key, value in self._require_cipher().open(sealed).items():
                if inside.get(key):
                    payload[inside[key]] = {**payload.get(inside[key], {}), key: value}
                else:
                    payload[key] = value
        names = {field.name for field in dataclasses.fields(cls)}
        values = {name: value for name, value in payload.items() if name in names}
        for name, shape in cls.stored_as.items():
            if name in values:
                values[name] = shape[1](values[name])
        if "account_id" in names:
            values.setdefault("account_id", envelope.account_id)
        if cls.aggregate_id_field:
            values[cls.aggregate_id_field] = envelope.aggregate_id
        try:
            return cls(**values)
        except TypeError as exc:  # a required field is missing
            raise MalformedEvent(f"{envelope.event_type}: {exc}") from None

    def _require_cipher(self) -> PersonalDataCipher:
        if self._cipher is None:
            raise TypeError("this codec seals personal fields and needs a PersonalDataCipher")
        return self._cipher


def _copy(value: object) -> object:
    """Lists and dicts copied, so that popping sealed keys never touches the event."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value
