"""What contacts tells of a contact in its timeline (issue 14, item 1): each of its events as timeline entries.

Pure: an event, its id and its time in, entries out (crm_platform.timeline says what an entry may hold). A summary
names fields, keys and ids, never a value typed about the person: no names, addresses, note text, subjects or
file names. Kinds are part of the contract (docs/api.md, "The contact's timeline").
"""
from __future__ import annotations

from datetime import datetime

from crm_platform.aggregates import DomainEvent
from crm_platform.timeline import TimelineEntry

from contacts.domain.attachments import AttachmentAdded, AttachmentDeleted, AttachmentMoved
from contacts.domain.events import (
    ContactCreated, ContactDeleted, ContactsMerged, ContactUpdated, LabelAssigned, LabelUnassigned,
)
from contacts.domain.messages import MessageFailed, MessageQueued, MessageSent
from contacts.domain.notes import NoteAdded, NoteDeleted, NoteEdited, NoteMoved

CUSTOM_FIELDS = "custom_fields"
REJECTED = "rejected"  # crm_platform.mail's reason for an address that bounced


def timeline_entries(event: DomainEvent, event_id: str, at: datetime) -> list[TimelineEntry]:
    """The entries `event` (of id `event_id`, recorded at `at`) makes in its contact's timeline; none for an event
    the timeline does not tell (ContactErased: the projection forgets the contact instead)."""
    def entry(kind: str, subject_type: str, subject_id: str, summary: dict, suffix: str = "") -> TimelineEntry:
        return TimelineEntry(event_id + suffix, at, kind, subject_type, subject_id, summary)

    if isinstance(event, ContactCreated):
        return [entry("contact.created", "contact", event.contact_id, {})]
    if isinstance(event, ContactUpdated):
        return _updated(event, entry)
    if isinstance(event, (LabelAssigned, LabelUnassigned)):
        change = "added" if isinstance(event, LabelAssigned) else "removed"
        return [entry("contact.labels_changed", "contact", event.contact_id, {change: [event.label_key]})]
    if isinstance(event, ContactsMerged):
        return [entry("contact.merged", "contact", event.contact_id, {"source_ids": list(event.source_ids)})]
    if isinstance(event, ContactDeleted):
        summary = {"merged_into": event.merged_into} if event.merged_into else {}
        return [entry("contact.deleted", "contact", event.contact_id, summary)]
    if isinstance(event, (NoteAdded, NoteEdited, NoteMoved, NoteDeleted)):
        return [_note(event, entry)]
    if isinstance(event, (MessageQueued, MessageSent, MessageFailed)):
        return [_message(event, entry)]
    if isinstance(event, (AttachmentAdded, AttachmentMoved, AttachmentDeleted)):
        return [_attachment(event, entry)]
    return []


def _updated(event: ContactUpdated, entry) -> list[TimelineEntry]:
    """One entry for the fields changed, one for the custom fields (with the keys that hold a value now: the event
    carries the contact after the change, not which values changed)."""
    fields = [name for name in event.changed if name != CUSTOM_FIELDS]
    entries = [entry("contact.updated", "contact", event.contact_id, {"fields": fields})] if fields else []
    if CUSTOM_FIELDS in event.changed:
        keys = sorted(event.details.get(CUSTOM_FIELDS) or {})
        entries.append(entry("contact.custom_fields_changed", "contact", event.contact_id, {"keys": keys},
                             suffix=":custom_fields"))
    return entries


def _note(event, entry) -> TimelineEntry:
    kind = {NoteAdded: "note.added", NoteEdited: "note.edited", NoteMoved: "note.moved",
            NoteDeleted: "note.deleted"}[type(event)]
    summary = {"note_id": event.note_id}
    if not isinstance(event, NoteDeleted):
        summary["note_kind"] = event.kind  # note, meeting_summary or call_summary
    if isinstance(event, NoteMoved):
        summary["from_contact_id"] = event.from_contact_id
    return entry(kind, "note", event.note_id, summary)


def _message(event, entry) -> TimelineEntry:
    summary = {"message_id": event.message_id}
    if isinstance(event, MessageQueued):
        return entry("message.queued", "message", event.message_id,
                     {**summary, "marketing": event.marketing, "attachments": len(event.attachments)})
    if isinstance(event, MessageSent):
        return entry("message.sent", "message", event.message_id, {**summary, "attempts": event.attempts})
    kind = "message.bounced" if event.reason == REJECTED else "message.failed"
    return entry(kind, "message", event.message_id, {**summary, "reason": event.reason, "attempts": event.attempts})


def _attachment(event, entry) -> TimelineEntry:
    summary = {"attachment_id": event.attachment_id}
    if isinstance(event, AttachmentDeleted):
        return entry("attachment.removed", "attachment", event.attachment_id, summary)
    summary |= {"attachment_kind": event.kind, "content_type": event.content_type, "size": event.size}
    if isinstance(event, AttachmentMoved):
        return entry("attachment.moved", "attachment", event.attachment_id,
                     {**summary, "from_contact_id": event.from_contact_id})
    return entry("attachment.added", "attachment", event.attachment_id, summary)
