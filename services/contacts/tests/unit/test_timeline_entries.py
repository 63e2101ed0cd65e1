"""Contacts' timeline entries from plain events (issue 14, item 1): one kind per thing done, ids and names of fields
in the summary, never a value typed about the person."""
import json
from datetime import datetime, timezone

import pytest

from contacts.domain.attachments import AttachmentAdded, AttachmentDeleted, AttachmentMoved
from contacts.domain.events import (
    ContactCreated, ContactDeleted, ContactErased, ContactsMerged, ContactUpdated, LabelAssigned, LabelUnassigned,
)
from contacts.domain.messages import MessageFailed, MessageQueued, MessageSent
from contacts.domain.notes import NoteAdded, NoteDeleted, NoteEdited, NoteMoved
from contacts.service_layer.timeline_entries import timeline_entries

AT = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
DETAILS = {"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}], "custom_fields": {"birthday": "1990-01-01"}}
PERSONAL = ("Louise", "louise@papier.fr", "1990-01-01", "Rappeler", "Devis", "contrat.pdf", "Bonjour")


def entries_of(event):
    return [(e.id, e.at, e.kind, e.subject_type, e.subject_id, e.summary) for e in timeline_entries(event, "ev1", AT)]


def message(cls, status, reason=None):
    return cls("m1", "acct-1", "c1", "louise@papier.fr", "Devis", "Bonjour Louise", False, [{"attachment_id": "a1"}],
               "2026-12-03T10:00:00+00:00", status, reason, 2)


def attachment(cls, **more):
    return cls("a1", "acct-1", "c1", "file", "2026-12-03T10:00:00+00:00", "contrat.pdf", "application/pdf", 1234,
               "ab" * 32, "b1", None, **more)


CASES = [
    (ContactCreated("c1", "acct-1", DETAILS, "2026-12-03T10:00:00+00:00"),
     [("ev1", AT, "contact.created", "contact", "c1", {})]),
    (ContactUpdated("c1", "acct-1", DETAILS, ["first_name", "emails"]),
     [("ev1", AT, "contact.updated", "contact", "c1", {"fields": ["first_name", "emails"]})]),
    (ContactUpdated("c1", "acct-1", DETAILS, ["custom_fields"]),
     [("ev1:custom_fields", AT, "contact.custom_fields_changed", "contact", "c1", {"keys": ["birthday"]})]),
    (ContactUpdated("c1", "acct-1", DETAILS, ["phones", "custom_fields"]),
     [("ev1", AT, "contact.updated", "contact", "c1", {"fields": ["phones"]}),
      ("ev1:custom_fields", AT, "contact.custom_fields_changed", "contact", "c1", {"keys": ["birthday"]})]),
    (LabelAssigned("c1", "acct-1", "vip", DETAILS),
     [("ev1", AT, "contact.labels_changed", "contact", "c1", {"added": ["vip"]})]),
    (LabelUnassigned("c1", "acct-1", "vip", DETAILS),
     [("ev1", AT, "contact.labels_changed", "contact", "c1", {"removed": ["vip"]})]),
    (ContactsMerged("c1", "acct-1", ["c2", "c3"], DETAILS),
     [("ev1", AT, "contact.merged", "contact", "c1", {"source_ids": ["c2", "c3"]})]),
    (ContactDeleted("c2", "acct-1", merged_into="c1"),
     [("ev1", AT, "contact.deleted", "contact", "c2", {"merged_into": "c1"})]),
    (ContactDeleted("c1", "acct-1"), [("ev1", AT, "contact.deleted", "contact", "c1", {})]),
    (ContactErased("c1", "acct-1"), []),
    (NoteAdded("n1", "acct-1", "c1", "call_summary", "Rappeler Louise", "2026-12-03T10:00:00+00:00"),
     [("ev1", AT, "note.added", "note", "n1", {"note_id": "n1", "note_kind": "call_summary"})]),
    (NoteEdited("n1", "acct-1", "c1", "note", "Rappeler", "2026-12-03T10:00:00+00:00"),
     [("ev1", AT, "note.edited", "note", "n1", {"note_id": "n1", "note_kind": "note"})]),
    (NoteMoved("n1", "acct-1", "c1", "note", "Rappeler", "2026-12-03T10:00:00+00:00", "c2"),
     [("ev1", AT, "note.moved", "note", "n1", {"note_id": "n1", "note_kind": "note", "from_contact_id": "c2"})]),
    (NoteDeleted("n1", "acct-1", "c1"), [("ev1", AT, "note.deleted", "note", "n1", {"note_id": "n1"})]),
    (message(MessageQueued, "queued"), [("ev1", AT, "message.queued", "message", "m1",
                                         {"message_id": "m1", "marketing": False, "attachments": 1})]),
    (message(MessageSent, "sent"), [("ev1", AT, "message.sent", "message", "m1", {"message_id": "m1", "attempts": 2})]),
    (message(MessageFailed, "failed", "rejected"),
     [("ev1", AT, "message.bounced", "message", "m1", {"message_id": "m1", "reason": "rejected", "attempts": 2})]),
    (message(MessageFailed, "failed", "undeliverable"),
     [("ev1", AT, "message.failed", "message", "m1", {"message_id": "m1", "reason": "undeliverable", "attempts": 2})]),
    (attachment(AttachmentAdded), [("ev1", AT, "attachment.added", "attachment", "a1", {
        "attachment_id": "a1", "attachment_kind": "file", "content_type": "application/pdf", "size": 1234})]),
    (attachment(AttachmentMoved, from_contact_id="c2"), [("ev1", AT, "attachment.moved", "attachment", "a1", {
        "attachment_id": "a1", "attachment_kind": "file", "content_type": "application/pdf", "size": 1234,
        "from_contact_id": "c2"})]),
    (AttachmentDeleted("a1", "acct-1", "c1"),
     [("ev1", AT, "attachment.removed", "attachment", "a1", {"attachment_id": "a1"})]),
]


@pytest.mark.parametrize("event, expected", CASES, ids=[f"{type(e).__name__}-{i}" for i, (e, _) in enumerate(CASES)])
def test_each_event_makes_its_entries(event, expected):
    assert entries_of(event) == expected


@pytest.mark.parametrize("event", [event for event, _ in CASES], ids=[type(e).__name__ for e, _ in CASES])
def test_no_entry_holds_a_value_typed_about_the_person(event):
    told = json.dumps([entry[5] for entry in entries_of(event)])
    assert not [value for value in PERSONAL if value in told]


def test_entry_ids_are_unique_within_an_event():
    event = ContactUpdated("c1", "acct-1", DETAILS, ["phones", "custom_fields"])
    ids = [entry.id for entry in timeline_entries(event, "ev1", AT)]
    assert len(ids) == len(set(ids)) == 2
