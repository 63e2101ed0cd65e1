"""Read models of labels (`labels`: one document per label) and of their order (`label_orders`: one per account)."""
from __future__ import annotations

from pymongo import ASCENDING

from crm_platform.envelope import EventEnvelope
from crm_platform.projections import Projection, versioned_upsert

from contacts.domain.labels import Label, LabelDeleted, LabelEvent, LabelOrder, LabelsReordered


class LabelsProjection(Projection):
    """One document per label: key, display name, and a folded name for find-by-name."""

    aggregate_type = Label.aggregate_type

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("name_folded", ASCENDING)], name="account_name")

    def project(self, envelope: EventEnvelope, event: LabelEvent, rebuilding: bool) -> bool:
        fields = {"account_id": envelope.account_id, "key": event.key, "deleted": isinstance(event, LabelDeleted)}
        if not isinstance(event, LabelDeleted):
            fields.update(name=event.name, name_folded=event.name.casefold())
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, fields,
                                replace_same_version=rebuilding)


class LabelOrderProjection(Projection):
    """One document per account (`label-order:<account>`) with the keys in the chosen order."""

    aggregate_type = LabelOrder.aggregate_type

    def project(self, envelope: EventEnvelope, event: LabelsReordered, rebuilding: bool) -> bool:
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version,
                                {"account_id": envelope.account_id, "keys": list(event.keys)},
                                replace_same_version=rebuilding)
