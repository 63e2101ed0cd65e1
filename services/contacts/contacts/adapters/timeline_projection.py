"""Contacts' part of a contact's timeline (`timeline`): its entries, made from the events of contacts, notes,
messages and files (service_layer/timeline_entries.py), in the kernel's TimelineProjection.

A read model of the projection consumer like the others: rebuilt with them, idempotent (an entry is written under
the id of the event that made it), and given a polled batch at once (every entry it makes in one insert). A contact's
erasure forgets its entries: at once in the erasure itself (erasure.py), and again when ContactErased is applied here,
so a rebuild leaves none. An event sealed with an erased contact's key no longer opens: it makes no entry. An event
that seals nothing (NoteDeleted, AttachmentDeleted, ContactDeleted) still opens, and may come after the erasure (a
note's events and its contact's travel on different partitions): it makes no entry either, because every write asks
whether its contact is erased, before and after (the kernel's record_unless_erased, as TimelineFollower does);
before it, an event that opened under its contact's key has answered already (the key was there).

A merge (issue 14): each source deleted as merged (ContactDeleted with `merged_into`; not ContactsMerged, which a
merge records before it deletes its sources, and which stays when the merge stops with nothing deleted) gives its
entries to the survivor (the kernel's move_unless_erased: none to an erased survivor, the source's are forgotten).
An event naming a merged-away contact that comes later (a note's event on another partition, a replay) is recorded
under the survivor, as the contacts read model keeps the merge (`survivor`, one `_id` read per hop); a batch asks it
once per contact, and only for the events of notes, messages and files: a contact's own events come before its
deletion on its partition, and the batch's insert leaves an entry there already (moved) where it is. Those are asked
again after the write: a merge moving the contact's entries between the two reads would miss the one just written,
which then goes to the survivor too (as the kernel's follower does). The contacts
read model applies the deletion before this one in the consumer, so the source's own last entry goes to the survivor
at once; when not (a rebuild of this read model alone), the move after it takes it there.
"""
from __future__ import annotations

from pymongo.collection import Collection

from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.outages import is_transient
from crm_platform.personal_data import SubjectErased
from crm_platform.projection_batches import BatchingProjection
from crm_platform.timeline import TimelineProjection
from crm_platform.timeline_follower import (
    ErasedContacts, SurvivorOf, move_unless_erased, record_batch_unless_erased, record_unless_erased, unmerged,
)

from contacts.domain.attachments import Attachment
from contacts.domain.events import ContactDeleted, ContactErased, data_subject
from contacts.domain.messages import Message
from contacts.domain.model import Contact
from contacts.domain.notes import Note
from contacts.service_layer.timeline_entries import timeline_entries

TOLD = frozenset({Contact.aggregate_type, Note.aggregate_type, Message.aggregate_type, Attachment.aggregate_type})


class ContactTimelineProjection(BatchingProjection):
    aggregate_type = Contact.aggregate_type  # and those of TOLD

    def __init__(self, collection: Collection, codec: EventCodec, erased: ErasedContacts,
                 survivor: SurvivorOf | None = None) -> None:
        super().__init__(collection, codec)
        self.timeline = TimelineProjection(collection)
        self._erased = erased
        self._survivor = survivor or unmerged

    def ensure_indexes(self) -> None:
        self.timeline.ensure_indexes()

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        if envelope.aggregate_type not in TOLD:
            return False
        if _is_erasure(envelope):
            return self.timeline.forget_contact(envelope.account_id, envelope.aggregate_id) > 0
        try:
            event = self.codec.from_envelope(envelope)
        except SubjectErased:
            return False
        account_id = envelope.account_id
        contact_id = self._survivor(account_id, event.contact_id)
        entries = timeline_entries(event, envelope.event_id, envelope.occurred_at)
        unerased = [contact_id] if _opened_with_key_of(envelope, contact_id) else []
        may_come_late = envelope.aggregate_type != Contact.aggregate_type  # a note's, message's or file's
        recorded = record_unless_erased(self.timeline, self._erased, account_id,
                                        [(contact_id, entry) for entry in entries], unerased,
                                        survivor=self._survivor if may_come_late else None)
        if isinstance(event, ContactDeleted) and event.merged_into:
            survivor_id = self._survivor(account_id, event.merged_into)
            return move_unless_erased(self.timeline, self._erased, account_id, event.contact_id, survivor_id) > 0 \
                or recorded
        return recorded

    def apply_batch(self, envelopes: list[EventEnvelope]) -> set[str]:
        """The entries of the batch's events in one insert (none for an erased contact, a merged contact's under its
        survivor); the ids of the events applied so. An erasure, a deletion as merged (it moves entries), and an
        event that does not decode or whose entry the server refused, go one by one, in order, after the batch."""
        applied: set[str] = set()
        made: dict[str, list[str]] = {}  # event id -> ids of its entries
        rows = []
        unerased = set()  # (account id, contact id) whose key opened an event of the batch
        survivors: dict[tuple[str, str], str] = {}  # (account id, contact id) -> its survivor, asked once
        for envelope in envelopes:
            if envelope.aggregate_type not in TOLD or _is_erasure(envelope) or _is_merge_deletion(envelope):
                continue
            try:
                event = self.codec.from_envelope(envelope)
            except SubjectErased:
                applied.add(envelope.event_id)  # it makes no entry
                continue
            except Exception as exc:  # noqa: BLE001 - the one-by-one path retries and dead-letters it
                if is_transient(exc):
                    raise
                continue
            contact_id = event.contact_id
            if envelope.aggregate_type != Contact.aggregate_type:  # a note's, message's or file's: may come late
                key = (envelope.account_id, contact_id)
                if key not in survivors:
                    survivors[key] = self._survivor(*key)
                contact_id = survivors[key]
            entries = timeline_entries(event, envelope.event_id, envelope.occurred_at)
            made[envelope.event_id] = [entry.id for entry in entries]
            if _opened_with_key_of(envelope, contact_id):
                unerased.add((envelope.account_id, contact_id))
            rows += [(envelope.account_id, contact_id, entry) for entry in entries]
        asked = {(account_id, survivor_id) for (account_id, _), survivor_id in survivors.items()}
        refused = record_batch_unless_erased(self.timeline, self._erased, rows, unerased, survivor=self._survivor,
                                             merged_meanwhile=asked) if rows else set()
        return applied | {event_id for event_id, ids in made.items() if not refused.intersection(ids)}


def _opened_with_key_of(envelope: EventEnvelope, contact_id: str) -> bool:
    """Whether the (decoded) event's personal fields were sealed with the contact's key: it opened, so the contact
    was not erased when its key was read, a moment before the entry is written."""
    personal = envelope.payload.get("personal")
    return isinstance(personal, dict) and personal.get("subject") == data_subject(contact_id)


def _is_erasure(envelope: EventEnvelope) -> bool:
    return envelope.aggregate_type == Contact.aggregate_type and envelope.event_type == ContactErased.event_type()


def _is_merge_deletion(envelope: EventEnvelope) -> bool:
    """A source deleted by its merge (its payload's `merged_into` is in clear: it seals nothing)."""
    return (envelope.aggregate_type == Contact.aggregate_type and envelope.event_type == ContactDeleted.event_type()
            and bool(envelope.payload.get("merged_into")))
