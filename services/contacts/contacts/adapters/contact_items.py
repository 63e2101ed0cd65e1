"""Read models of what a contact has (notes, attachments): one document per item, moved forward by its events.

Every event of an item but its deletion carries the whole item, so applying
the newest is enough. An item whose contact was erased becomes a tombstone
without its personal columns; every event moves the contact's last activity.
"""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from crm_platform.aggregates import DomainEvent
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import SubjectErased
from crm_platform.projections import Projection, versioned_upsert

from contacts.adapters.activity import touch_last_activity
from contacts.domain.events import ContactErased
from contacts.domain.model import Contact


class ContactItemsProjection(Projection):
    personal_columns: tuple[str, ...]  # dropped when the item is deleted or its contact erased

    def __init__(self, collection: Collection, codec: EventCodec, contacts: Collection) -> None:
        super().__init__(collection, codec)
        self._contacts = contacts

    def ensure_indexes(self) -> None:
        self.collection.create_index([("contact_id", ASCENDING), ("created_at", DESCENDING)], name="contact_newest")

    def live_columns(self, event: DomainEvent) -> dict | None:
        """The item's columns after this event; None if it deletes the item."""
        raise NotImplementedError

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.event_type == ContactErased.event_type() and envelope.aggregate_type == Contact.aggregate_type:
            return self._erase_items_of(envelope.aggregate_id)
        if envelope.aggregate_type != self.aggregate_type:
            return False
        touch_last_activity(self._contacts, envelope.payload["contact_id"], envelope.occurred_at)
        base = {"account_id": envelope.account_id, "contact_id": envelope.payload["contact_id"],
                "updated_at": envelope.occurred_at}
        try:
            columns = self.live_columns(self.codec.from_envelope(envelope))
        except SubjectErased:
            columns = None
        if columns is None:
            return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version,
                                    {**base, "deleted": True}, unset_fields=self.personal_columns,
                                    replace_same_version=rebuilding)
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version,
                                {**base, **columns, "deleted": False}, replace_same_version=rebuilding)

    def _erase_items_of(self, contact_id: str) -> bool:
        """The contact was erased: its items become tombstones now, whatever event of theirs comes later or not.

        Their events are sealed with the contact's key, so a replay keeps them tombstones too.
        """
        result = self.collection.update_many(
            {"contact_id": contact_id},
            {"$set": {"deleted": True, "erased": True}, "$unset": {name: "" for name in self.personal_columns}})
        return result.modified_count > 0
