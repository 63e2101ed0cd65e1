"""The read model of saved views (`saved_views`)."""
from __future__ import annotations

from pymongo import ASCENDING

from crm_platform.envelope import EventEnvelope
from crm_platform.projections import Projection, versioned_upsert

from contacts.domain.saved_views import SavedView, SavedViewDeleted, SavedViewEvent, query_as_pairs


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
