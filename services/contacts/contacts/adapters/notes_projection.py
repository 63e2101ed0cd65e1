"""The read model of notes (`notes`); a note's text is sealed with its contact's key in its events."""
from __future__ import annotations

from datetime import datetime

from contacts.adapters.contact_items import ContactItemsProjection
from contacts.domain.notes import Note, NoteDeleted, NoteEvent


class NotesProjection(ContactItemsProjection):
    aggregate_type = Note.aggregate_type
    personal_columns = ("text",)

    def live_columns(self, event: NoteEvent) -> dict | None:
        if isinstance(event, NoteDeleted):
            return None
        return {"kind": event.kind, "text": event.text, "created_at": datetime.fromisoformat(event.created_at)}
