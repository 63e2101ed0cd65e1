"""Contacts' part of a contact's timeline (`timeline`): its entries, made from the events of contacts, notes,
messages and files (service_layer/timeline_entries.py), in the kernel's TimelineProjection.

A read model of the projection consumer like the others: rebuilt with them, idempotent (an entry is upserted by
the id of the event that made it). A contact's erasure forgets its entries: at once in the erasure itself
(erasure.py), and again when ContactErased is applied here, so a rebuild or a late event leaves none. An event
sealed with an erased contact's key no longer opens: it makes no entry.
"""
from __future__ import annotations

from pymongo.collection import Collection

from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import SubjectErased
from crm_platform.projections import Projection
from crm_platform.timeline import TimelineProjection

from contacts.domain.attachments import Attachment
from contacts.domain.events import ContactErased
from contacts.domain.messages import Message
from contacts.domain.model import Contact
from contacts.domain.notes import Note
from contacts.service_layer.timeline_entries import timeline_entries

TOLD = frozenset({Contact.aggregate_type, Note.aggregate_type, Message.aggregate_type, Attachment.aggregate_type})


class ContactTimelineProjection(Projection):
    aggregate_type = Contact.aggregate_type  # and those of TOLD

    def __init__(self, collection: Collection, codec: EventCodec) -> None:
        super().__init__(collection, codec)
        self.timeline = TimelineProjection(collection)

    def ensure_indexes(self) -> None:
        self.timeline.ensure_indexes()

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type not in TOLD:
            return False
        if envelope.aggregate_type == Contact.aggregate_type and envelope.event_type == ContactErased.event_type():
            return self.timeline.forget_contact(envelope.account_id, envelope.aggregate_id) > 0
        try:
            event = self.codec.from_envelope(envelope)
        except SubjectErased:
            return False
        entries = timeline_entries(event, envelope.event_id, envelope.occurred_at)
        self.timeline.record_many(envelope.account_id, event.contact_id, entries)
        return bool(entries)
