"""Notes on a contact: a note, a meeting summary or a call summary; added, edited, deleted."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import InvalidInput, NotFound, StaleRevision
from crm_platform.input_guard import text_problem

from contacts.domain.events import CONTACT_SUBJECT

KINDS = ("note", "meeting_summary", "call_summary")
MAX_TEXT = 20_000


class NoteNotFound(NotFound):
    def __init__(self, note_id: str) -> None:
        super().__init__(f"note {note_id} does not exist on this contact", note_id=note_id)


class NoteEvent(DomainEvent):
    """A note's text is sealed with its contact's key: erasing the contact makes its notes unreadable too."""

    aggregate_id_field = "note_id"
    personal_fields = ("text",)
    data_subject = CONTACT_SUBJECT


@dataclass(frozen=True)
class NoteAdded(NoteEvent):
    note_id: str
    account_id: str
    contact_id: str
    kind: str
    text: str
    created_at: str


@dataclass(frozen=True)
class NoteEdited(NoteEvent):
    note_id: str
    account_id: str
    contact_id: str
    kind: str
    text: str
    created_at: str  # carried along, so that the latest event holds the whole note


@dataclass(frozen=True)
class NoteMoved(NoteEvent):
    """The note now belongs to another contact (its contact was merged into that one)."""

    note_id: str
    account_id: str
    contact_id: str  # the new one
    kind: str
    text: str
    created_at: str
    from_contact_id: str


@dataclass(frozen=True)
class NoteDeleted(NoteEvent):
    note_id: str
    account_id: str
    contact_id: str


class Note(Aggregate):
    aggregate_type = "Note"
    event_classes = (NoteAdded, NoteEdited, NoteMoved, NoteDeleted)
    not_found_error = NoteNotFound

    def __init__(self, note_id: str, account_id: str, contact_id: str = "") -> None:
        super().__init__(note_id, account_id)
        self.contact_id = contact_id  # replayed events set it
        self.kind = "note"
        self.text = ""
        self.created_at = ""

    @classmethod
    def add(cls, account_id: str, contact_id: str, kind: str, text: str, note_id: str | None = None) -> "Note":
        """A new note; `note_id` for one whose id is derived (an imported row's, so that a re-run adds it once)."""
        note = cls(note_id or str(uuid.uuid4()), account_id, contact_id)
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        note._record(NoteAdded(note.id, account_id, contact_id, _kind(kind), checked_text(text), now))
        return note

    def edit(self, revision: int, kind: str | None, text: str | None) -> None:
        self._check_current(revision)
        kind, text = _kind(kind or self.kind), checked_text(text if text is not None else self.text)
        if (kind, text) != (self.kind, self.text):
            self._record(NoteEdited(self.id, self.account_id, self.contact_id, kind, text, self.created_at))

    def move_to(self, contact_id: str) -> None:
        if self.deleted:
            raise NoteNotFound(self.id)
        if contact_id != self.contact_id:
            self._record(NoteMoved(self.id, self.account_id, contact_id, self.kind, self.text, self.created_at,
                                   self.contact_id))

    def delete(self, revision: int | None) -> None:
        if revision is not None:
            self._check_current(revision)
        elif self.deleted:
            raise NoteNotFound(self.id)
        self._record(NoteDeleted(self.id, self.account_id, self.contact_id))

    def _check_current(self, revision: int) -> None:
        if self.deleted:
            raise NoteNotFound(self.id)
        if revision != self.revision:
            raise StaleRevision(f"note {self.id} is at revision {self.revision}, the change was based on {revision}",
                                note_id=self.id, current_revision=self.revision)

    def _apply(self, event: NoteEvent) -> None:
        self.contact_id = event.contact_id
        if isinstance(event, NoteDeleted):
            self.deleted = True
        else:
            self.kind, self.text, self.created_at = event.kind, event.text, event.created_at


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput("unknown note kind", errors={"kind": [f"one of {', '.join(KINDS)}"]})
    return kind


def checked_text(text: str) -> str:
    """The text of a note, trimmed; InvalidInput if it is empty, too long or holds characters no text may hold."""
    if (problem := text_problem(text or "")) is not None:
        raise InvalidInput("invalid note text", errors={"text": [problem]})
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput("invalid note text", errors={"text": [f"1 to {MAX_TEXT} characters"]})
    return text
