"""One codec for every aggregate: domain events <-> envelopes, personal fields sealed under the subject's key.

The payload is the event's fields but the envelope's own (account_id and the
aggregate id field); optional fields left at None are omitted. Fields named in
`personal_fields` travel in `payload["personal"]`, sealed with the data
subject's key, so that shredding that key makes them unreadable in every
stored and published copy. A few fields are stored in another shape than the
domain holds them (an event class's `stored_as`, e.g. a dict whose keys MongoDB refuses).

Decoding another service's event checks its payload, brought up to the current
version, against the published contract (crm_platform.contracts) before anything
is read from it, sealed fields still shut: a payload that breaks it is bad data
(PayloadBreaksContract, a MalformedEvent the consumer dead-letters after its
retries), never a TypeError deep in a handler or a write half done. A service's
own events (`own_events`: its unit of work's codec, reading its event store and
its own topic) are not checked: its event classes are the contract it publishes
(its tests hold every encoded event to it), and refusing its own history would
make an aggregate unloadable and its read models unrebuildable.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
from dataclasses import dataclass
from typing import Iterable

from crm_platform import contracts
from crm_platform.aggregates import DomainEvent
from crm_platform.envelope import EventEnvelope, MalformedEvent, new_envelope
from crm_platform.personal_data import PersonalDataCipher

class UnknownEventType(MalformedEvent):
    """An envelope whose event type this codec does not know."""


class PayloadBreaksContract(MalformedEvent):
    """Another service's event whose payload breaks its published contract (a field missing, of the wrong type...)."""


class EventCodec:
    """Translates the events of some aggregate types (or of a topic's contract) to and from envelopes."""

    def __init__(self, event_classes: Iterable[type[DomainEvent]], cipher: PersonalDataCipher | None = None,
                 own_events: bool = False) -> None:
        self._classes = {cls.event_type(): cls for cls in event_classes}
        self._cipher = cipher
        self._own_events = own_events  # the service's own events: their classes are the contract, not checked

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
                            aggregate_version=version, account_id=account_id,
                            payload=self.payload(event, later_event=version > 1),
                            schema_version=event.schema_version)

    def payload(self, event: DomainEvent, later_event: bool = False) -> dict:
        """The event's published payload, its personal fields sealed (`later_event`: not its aggregate's first, whose
        subject most likely has a key already)."""
        cls, layout = type(event), _layout(type(event))
        payload = {}
        for name in layout.order:
            value = getattr(event, name)
            if name in layout.kept_out or (value is None and name in layout.omitted_when_none):
                continue
            shape = cls.stored_as.get(name)
            payload[name] = shape[0](value) if shape else _copy(value)
        personal = {key: payload.pop(key) for key in layout.whole if key in payload}
        containers = {container for container in layout.inside.values() if isinstance(payload.get(container), dict)}
        for key, container in layout.inside.items():
            if container in containers and key in payload[container]:
                personal[key] = payload[container].pop(key)
        if layout.whole or containers:
            payload["personal"] = self._require_cipher().seal(event.subject(), personal, has_key=later_event)
        return payload

    def from_envelope(self, envelope: EventEnvelope) -> DomainEvent:
        """The domain event; SubjectErased if its personal fields were shredded, UnknownEventType if not ours,
        PayloadBreaksContract if another service's payload breaks its published contract."""
        cls = self._classes.get(envelope.event_type)
        if cls is None:
            raise UnknownEventType(f"unknown event type {envelope.event_type!r}")
        layout = _layout(cls)
        payload = _upcast(envelope)
        if not self._own_events:
            _check_contract(envelope, payload)
        sealed = payload.pop("personal", None)
        # a class without personal fields (a consumer's view of another service's event) leaves the seal shut
        if sealed is not None and (layout.whole or layout.inside):
            for key, value in self._require_cipher().open(sealed).items():
                container = layout.inside.get(key)
                if container:
                    payload[container] = {**payload.get(container, {}), key: value}
                else:
                    payload[key] = value
        values = {name: value for name, value in payload.items() if name in layout.names}
        for name, shape in cls.stored_as.items():
            if name in values:
                values[name] = shape[1](values[name])
        if "account_id" in layout.names:
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


def _upcast(envelope: EventEnvelope) -> dict:
    try:
        return contracts.upcast(envelope.event_type, envelope.schema_version, dict(envelope.payload))
    except (KeyError, TypeError, ValueError, AttributeError):  # no upcaster from its version, or a payload it cannot read
        raise MalformedEvent(f"{envelope.event_type} v{envelope.schema_version}: cannot be upcast") from None


def _check_contract(envelope: EventEnvelope, payload: dict) -> None:
    """PayloadBreaksContract naming the fields (never their values: error headers and logs are not erased)."""
    contract = contracts.published_contract(envelope.event_type)
    if contract is None:
        return  # published by no topic (a test's event): its class is all there is
    problems = contract.consumer_problems(payload)
    if problems:
        raise PayloadBreaksContract(f"{envelope.event_type} v{envelope.schema_version} breaks its contract: "
                                    f"{', '.join(sorted(problems))}")


@dataclass(frozen=True)
class _Layout:
    """How one event class is stored, worked out once from its fields and class attributes."""

    order: tuple[str, ...]  # its fields, in order
    names: frozenset[str]
    kept_out: frozenset[str]  # travel in the envelope: account_id (unless published too), the aggregate id field
    omitted_when_none: frozenset[str]  # optional fields left at None
    whole: frozenset[str]  # personal fields sealed whole
    inside: dict  # personal key -> the dict field it is a key of


@functools.cache
def _layout(cls: type[DomainEvent]) -> _Layout:
    fields = dataclasses.fields(cls)
    names = frozenset(field.name for field in fields)
    whole, inside = set(), {}
    for path in cls.personal_fields:
        container, _, key = path.rpartition(".")
        if container and container in names:
            inside[key] = container
        elif not container and key in names:
            whole.add(key)
    kept_out = {cls.aggregate_id_field, None if cls.account_id_in_payload else "account_id"} - {None}
    return _Layout(tuple(field.name for field in fields), names, frozenset(kept_out),
                   frozenset(field.name for field in fields if field.default is None), frozenset(whole), inside)


def _copy(value: object) -> object:
    """Lists and dicts copied, so that popping sealed keys never touches the event."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value
