"""Saved views in the event store (aggregate type `SavedView`) and their read model."""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.aggregates import save_pending
from crm_platform.envelope import EventEnvelope, new_envelope
from crm_platform.event_store import EventStore
from crm_platform.projections import versioned_upsert

from contacts.domain.saved_views import (
    SavedView,
    SavedViewChanged,
    SavedViewCreated,
    SavedViewDeleted,
    SavedViewEvent,
    SavedViewNotFound,
)

AGGREGATE_TYPE = "SavedView"
EVENT_TYPES = {cls.__name__: cls for cls in (SavedViewCreated, SavedViewChanged, SavedViewDeleted)}


def query_as_pairs(query: dict) -> list[dict]:
    """A view's query parameters as {name, value} pairs: names such as `cf.budget.gt` hold dots, which
    MongoDB does not take as field names (and FerretDB takes no nested arrays, so no [name, value])."""
    return [{"name": name, "value": value} for name, value in query.items()]


def query_from_pairs(stored) -> dict:
    if isinstance(stored, list):
        return {pair["name"]: pair["value"] for pair in stored}
    return dict(stored)  # events stored before pairs kept a document


def to_envelope(event: SavedViewEvent, version: int) -> EventEnvelope:
    payload = {k: v for k, v in vars(event).items() if k not in ("view_id", "account_id")}
    if "query" in payload:
        payload["query"] = query_as_pairs(payload["query"])
    return new_envelope(event_type=type(event).__name__, aggregate_type=AGGREGATE_TYPE, aggregate_id=event.view_id,
                        aggregate_version=version, account_id=event.account_id, payload=payload)


def from_envelope(envelope: EventEnvelope) -> SavedViewEvent:
    payload = dict(envelope.payload)
    if "query" in payload:
        payload["query"] = query_from_pairs(payload["query"])
    return EVENT_TYPES[envelope.event_type](view_id=envelope.aggregate_id, account_id=envelope.account_id, **payload)


class SavedViewRepository:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.seen: dict[str, SavedView] = {}

    def add(self, view: SavedView) -> None:
        self.seen[view.id] = view

    def get(self, account_id: str, view_id: str) -> SavedView:
        history = self._store.load(view_id) if view_id.startswith("view:") else []
        if not history or history[0].account_id != account_id:
            raise SavedViewNotFound(view_id)
        view = SavedView.from_history(view_id, account_id, [from_envelope(e) for e in history])
        if view.deleted:
            raise SavedViewNotFound(view_id)
        self.seen[view.id] = view
        return view

    def save_pending(self) -> None:
        save_pending(self._store, self.seen.values(), to_envelope)


class SavedViewsProjection:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("name", ASCENDING)], name="account_name")

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type != AGGREGATE_TYPE:
            return False
        event = from_envelope(envelope)
        fields: dict = {"account_id": envelope.account_id, "deleted": isinstance(event, SavedViewDeleted)}
        if not isinstance(event, SavedViewDeleted):
            fields.update(name=event.name, query=query_as_pairs(event.query))
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, fields,
                                unset_fields=("query",), replace_same_version=rebuilding)
