"""The read model of saved views (`saved_views`), and the stored shape of a view's query."""
from __future__ import annotations

from pymongo import ASCENDING

from crm_platform.envelope import EventEnvelope
from crm_platform.projections import Projection, versioned_upsert

from contacts.domain.saved_views import SavedView, SavedViewDeleted, SavedViewEvent


def query_as_pairs(query: dict) -> list[dict]:
    """A view's query parameters as {name, value} pairs: names such as `cf.budget.gt` hold dots, which
    MongoDB does not take as field names (and FerretDB takes no nested arrays, so no [name, value])."""
    return [{"name": name, "value": value} for name, value in query.items()]


def query_from_pairs(stored) -> dict:
    if isinstance(stored, list):
        return {pair["name"]: pair["value"] for pair in stored}
    return dict(stored)  # events stored before pairs kept a document


class SavedViewsProjection(Projection):
    aggregate_type = SavedView.aggregate_type

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("name", ASCENDING)], name="account_name")

    def project(self, envelope: EventEnvelope, event: SavedViewEvent, rebuilding: bool) -> bool:
        fields: dict = {"account_id": envelope.account_id, "deleted": isinstance(event, SavedViewDeleted)}
        if not isinstance(event, SavedViewDeleted):
            fields.update(name=event.name, query=query_as_pairs(event.query))
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, fields,
                                unset_fields=("query",), replace_same_version=rebuilding)
