"""Notes in the event store (aggregate type `Note`, text sealed with the contact's key) and their read model.

Sealing a note with its contact's data key means erasing the contact makes
its notes unreadable too, in every stored copy.
"""
from __future__ import annotations

from datetime import datetime

from crm_platform.envelope import EventEnvelope, new_envelope
from crm_platform.aggregates import save_pending
from crm_platform.event_store import EventStore
from crm_platform.personal_data import PersonalDataCipher, SubjectErased

from contacts.adapters.contact_items import ContactItemsProjection
from contacts.adapters.event_codec import data_subject
from contacts.domain.notes import Note, NoteAdded, NoteDeleted, NoteEdited, NoteEvent, NoteMoved, NoteNotFound

AGGREGATE_TYPE = "Note"


def to_envelope(event: NoteEvent, version: int, cipher: PersonalDataCipher) -> EventEnvelope:
    payload: dict = {"contact_id": event.contact_id}
    if not isinstance(event, NoteDeleted):
        payload["kind"] = event.kind
        payload["created_at"] = event.created_at
        payload["personal"] = cipher.seal(data_subject(event.contact_id), {"text": event.text})
    if isinstance(event, NoteMoved):
        payload["from_contact_id"] = event.from_contact_id
    return new_envelope(event_type=type(event).__name__, aggregate_type=AGGREGATE_TYPE, aggregate_id=event.note_id,
                        aggregate_version=version, account_id=event.account_id, payload=payload)


def from_envelope(envelope: EventEnvelope, cipher: PersonalDataCipher) -> NoteEvent:
    """The note event; SubjectErased if its contact was erased."""
    p, ids = envelope.payload, (envelope.aggregate_id, envelope.account_id, envelope.payload["contact_id"])
    if envelope.event_type == "NoteDeleted":
        return NoteDeleted(*ids)
    state = (p["kind"], cipher.open(p["personal"])["text"], p["created_at"])
    if envelope.event_type == "NoteMoved":
        return NoteMoved(*ids, *state, p["from_contact_id"])
    return (NoteAdded if envelope.event_type == "NoteAdded" else NoteEdited)(*ids, *state)


class NoteRepository:
    def __init__(self, store: EventStore, cipher: PersonalDataCipher) -> None:
        self._store = store
        self._cipher = cipher
        self.seen: dict[str, Note] = {}

    def add(self, note: Note) -> None:
        self.seen[note.id] = note

    def get(self, account_id: str, contact_id: str, note_id: str) -> Note:
        history = self._store.load(note_id)
        # the contact it belongs to now: the latest event's (a merge may have moved it)
        if not history or history[0].account_id != account_id or history[-1].payload.get("contact_id") != contact_id:
            raise NoteNotFound(note_id)
        try:
            note = Note.from_history(note_id, account_id, contact_id, [from_envelope(e, self._cipher) for e in history])
        except SubjectErased:
            raise NoteNotFound(note_id) from None
        if note.deleted:
            raise NoteNotFound(note_id)
        self.seen[note.id] = note
        return note

    def save_pending(self) -> None:
        save_pending(self._store, self.seen.values(), lambda event, version: to_envelope(event, version, self._cipher))


class NotesProjection(ContactItemsProjection):
    aggregate_type = AGGREGATE_TYPE
    personal_columns = ("text",)

    def live_columns(self, envelope: EventEnvelope) -> dict | None:
        event = from_envelope(envelope, self._cipher)
        if isinstance(event, NoteDeleted):
            return None
        return {"kind": event.kind, "text": event.text, "created_at": datetime.fromisoformat(event.created_at)}
