"""The read model of custom field definitions (`custom_fields`)."""
from __future__ import annotations

from pymongo import ASCENDING

from crm_platform.envelope import EventEnvelope
from crm_platform.projections import Projection, versioned_upsert

from contacts.domain.custom_fields import (
    CustomFieldAdded,
    CustomFieldEvent,
    CustomFieldRemoved,
    CustomFieldRenamed,
    CustomFieldSet,
)


class CustomFieldsProjection(Projection):
    """One document per definition, `<set id>:<key>`, at the version of its set."""

    aggregate_type = CustomFieldSet.aggregate_type

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("position", ASCENDING)], name="account_order")

    def project(self, envelope: EventEnvelope, event: CustomFieldEvent, rebuilding: bool) -> bool:
        fields: dict = {"account_id": envelope.account_id, "key": event.key,
                        "deleted": isinstance(event, CustomFieldRemoved)}
        if isinstance(event, CustomFieldAdded):
            fields.update(name=event.name, type=event.type, position=envelope.aggregate_version)
        elif isinstance(event, CustomFieldRenamed):
            fields.update(name=event.name)
        return versioned_upsert(self.collection, f"{envelope.aggregate_id}:{event.key}", envelope.aggregate_version,
                                fields, replace_same_version=rebuilding)
