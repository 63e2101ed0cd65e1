"""Custom field definitions in the event store (one `CustomFieldSet` per account) and their read model."""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.envelope import EventEnvelope, new_envelope
from crm_platform.aggregates import save_pending
from crm_platform.event_store import EventStore
from crm_platform.projections import versioned_upsert

from contacts.domain.custom_fields import (
    CustomFieldAdded,
    CustomFieldEvent,
    CustomFieldRemoved,
    CustomFieldRenamed,
    CustomFieldSet,
    field_set_id,
)

AGGREGATE_TYPE = "CustomFieldSet"
EVENT_TYPES = {cls.__name__: cls for cls in (CustomFieldAdded, CustomFieldRenamed, CustomFieldRemoved)}


def to_envelope(event: CustomFieldEvent, version: int) -> EventEnvelope:
    payload = {k: v for k, v in vars(event).items() if k != "account_id"}
    return new_envelope(event_type=type(event).__name__, aggregate_type=AGGREGATE_TYPE,
                        aggregate_id=field_set_id(event.account_id), aggregate_version=version,
                        account_id=event.account_id, payload=payload)


def from_envelope(envelope: EventEnvelope) -> CustomFieldEvent:
    return EVENT_TYPES[envelope.event_type](account_id=envelope.account_id, **envelope.payload)


class CustomFieldSetRepository:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.seen: dict[str, CustomFieldSet] = {}

    def get(self, account_id: str) -> CustomFieldSet:
        """The account's definitions (an empty set if it never defined any)."""
        history = [from_envelope(e) for e in self._store.load(field_set_id(account_id))]
        field_set = CustomFieldSet.from_history(account_id, history)
        self.seen[field_set.id] = field_set
        return field_set

    def save_pending(self) -> None:
        save_pending(self._store, self.seen.values(), to_envelope)


class CustomFieldsProjection:
    """One document per definition, `<set id>:<key>`, at the version of its set."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("position", ASCENDING)], name="account_order")

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type != AGGREGATE_TYPE:
            return False
        event = from_envelope(envelope)
        fields: dict = {"account_id": envelope.account_id, "key": event.key,
                        "deleted": isinstance(event, CustomFieldRemoved)}
        if isinstance(event, CustomFieldAdded):
            fields.update(name=event.name, type=event.type, position=envelope.aggregate_version)
        elif isinstance(event, CustomFieldRenamed):
            fields.update(name=event.name)
        return versioned_upsert(self.collection, f"{envelope.aggregate_id}:{event.key}", envelope.aggregate_version,
                                fields, replace_same_version=rebuilding)
