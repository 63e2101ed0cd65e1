"""Option lists in the event store (one `OptionList` per account and kind) and their read model."""
from __future__ import annotations

from pymongo.collection import Collection

from crm_platform.aggregates import save_pending
from crm_platform.envelope import EventEnvelope, new_envelope
from crm_platform.event_store import EventStore
from crm_platform.projections import versioned_upsert

from contacts.domain.option_lists import (
    OptionAdded,
    OptionList,
    OptionListEvent,
    OptionListStarted,
    OptionRemoved,
    OptionRenamed,
    OptionsReordered,
    option_list_id,
)

AGGREGATE_TYPE = "OptionList"
EVENT_TYPES = {cls.__name__: cls for cls in (OptionListStarted, OptionAdded, OptionRenamed, OptionsReordered, OptionRemoved)}


def to_envelope(event: OptionListEvent, version: int) -> EventEnvelope:
    payload = {k: v for k, v in vars(event).items() if k != "account_id"}
    return new_envelope(event_type=type(event).__name__, aggregate_type=AGGREGATE_TYPE,
                        aggregate_id=option_list_id(event.account_id, event.kind), aggregate_version=version,
                        account_id=event.account_id, payload=payload)


def from_envelope(envelope: EventEnvelope) -> OptionListEvent:
    return EVENT_TYPES[envelope.event_type](account_id=envelope.account_id, **envelope.payload)


class OptionListRepository:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.seen: dict[str, OptionList] = {}

    def get(self, account_id: str, kind: str) -> OptionList:
        """The account's list of this kind (the defaults if it never changed it)."""
        empty = OptionList(account_id, kind)  # checks the kind before any read
        history = [from_envelope(e) for e in self._store.load(empty.id)]
        option_list = OptionList.from_history(account_id, kind, history) if history else empty
        self.seen[option_list.id] = option_list
        return option_list

    def save_pending(self) -> None:
        save_pending(self._store, self.seen.values(), to_envelope)


class OptionListsProjection:
    """One document per list (`options:<kind>:<account>`) holding its options in order.

    A list the account never changed has no document: readers fall back to the defaults.
    """

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def ensure_indexes(self) -> None:
        """Read by _id only."""

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type != AGGREGATE_TYPE:
            return False
        event = from_envelope(envelope)  # every event carries the whole list after it
        fields = {"account_id": envelope.account_id, "kind": event.kind, "options": list(event.options)}
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, fields,
                                replace_same_version=rebuilding)
