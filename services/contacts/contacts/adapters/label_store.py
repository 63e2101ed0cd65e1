"""Labels in the event store (aggregate type `Label`) and their read model (`labels` collection)."""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.envelope import EventEnvelope, new_envelope
from crm_platform.aggregates import save_pending
from crm_platform.event_store import EventStore
from crm_platform.projections import versioned_upsert

from contacts.domain.labels import (
    Label,
    LabelCreated,
    LabelDeleted,
    LabelEvent,
    LabelOrder,
    LabelRenamed,
    LabelsReordered,
    label_id,
    label_order_id,
)

AGGREGATE_TYPE = "Label"
EVENT_TYPES = {cls.__name__: cls for cls in (LabelCreated, LabelRenamed, LabelDeleted)}


def to_envelope(event: LabelEvent, version: int) -> EventEnvelope:
    payload = {"key": event.key, **({"name": event.name} if hasattr(event, "name") else {})}
    return new_envelope(event_type=type(event).__name__, aggregate_type=AGGREGATE_TYPE, aggregate_id=event.label_id,
                        aggregate_version=version, account_id=event.account_id, payload=payload)


def from_envelope(envelope: EventEnvelope) -> LabelEvent:
    cls = EVENT_TYPES[envelope.event_type]
    fields = {"label_id": envelope.aggregate_id, "account_id": envelope.account_id, "key": envelope.payload["key"]}
    if cls is not LabelDeleted:
        fields["name"] = envelope.payload["name"]
    return cls(**fields)


class LabelRepository:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.seen: dict[str, Label] = {}

    def find(self, account_id: str, key: str) -> Label | None:
        """The label with this key (live or deleted), or None if there never was one."""
        history = self._store.load(label_id(account_id, key))
        if not history:
            return None
        label = Label.from_history(account_id, key, [from_envelope(e) for e in history])
        self.seen[label.id] = label
        return label

    def add(self, label: Label) -> None:
        self.seen[label.id] = label

    def save_pending(self) -> None:
        save_pending(self._store, self.seen.values(), to_envelope)


class LabelsProjection:
    """One document per label: key, display name, and a folded name for find-by-name."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("name_folded", ASCENDING)], name="account_name")

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type != AGGREGATE_TYPE:
            return False
        event = from_envelope(envelope)
        fields = {"account_id": envelope.account_id, "key": event.key, "deleted": isinstance(event, LabelDeleted)}
        if not isinstance(event, LabelDeleted):
            fields.update(name=event.name, name_folded=event.name.casefold())
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, fields,
                                replace_same_version=rebuilding)


ORDER_AGGREGATE_TYPE = "LabelOrder"


def order_to_envelope(event: LabelsReordered, version: int) -> EventEnvelope:
    return new_envelope(event_type="LabelsReordered", aggregate_type=ORDER_AGGREGATE_TYPE,
                        aggregate_id=label_order_id(event.account_id), aggregate_version=version,
                        account_id=event.account_id, payload={"keys": list(event.keys)})


class LabelOrderRepository:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.seen: dict[str, LabelOrder] = {}

    def get(self, account_id: str) -> LabelOrder:
        history = [LabelsReordered(e.account_id, list(e.payload["keys"])) for e in self._store.load(label_order_id(account_id))]
        order = LabelOrder.from_history(account_id, history)
        self.seen[order.id] = order
        return order

    def save_pending(self) -> None:
        save_pending(self._store, self.seen.values(), order_to_envelope)


class LabelOrderProjection:
    """One document per account (`label-order:<account>`) with the keys in the chosen order."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def ensure_indexes(self) -> None:
        """Read by _id only."""

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type != ORDER_AGGREGATE_TYPE:
            return False
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version,
                                {"account_id": envelope.account_id, "keys": list(envelope.payload["keys"])},
                                replace_same_version=rebuilding)
