"""Handlers of the note commands."""
from __future__ import annotations

import uuid

from crm_platform.event_store import ConcurrencyConflict
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from contacts.domain import commands
from contacts.domain.notes import Note, NoteNotFound
from contacts.service_layer import holdings
from contacts.service_layer.unit_of_work import UnitOfWork


def add_note(cmd: commands.AddNote, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Note:
    """The new note, stored then filed in its contact's holdings (a merge meanwhile takes it along)."""
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    with uow:
        uow.contacts.get(cmd.account_id, cmd.contact_id)  # the contact must exist in this account
        note = Note.add(cmd.account_id, cmd.contact_id, cmd.kind, cmd.text)
        uow.notes.add(note)
        uow.commit()
    holdings.file_items(uow, cmd.account_id, cmd.contact_id, note_ids=[note.id])
    return note


IMPORTED_NOTE_IDS = uuid.UUID("0b6f3d52-8a0e-4f57-9a43-2c1d5e7f9b18")  # namespace of imported notes' ids


def imported_note_id(cmd: commands.AddImportedNote) -> str:
    """Derived from the import and row (no personal data): every run of the row's batch names the same note."""
    return str(uuid.uuid5(IMPORTED_NOTE_IDS, f"{cmd.account_id}|{cmd.contact_id}|{cmd.import_id}|{cmd.row_number}"))


def add_imported_note(cmd: commands.AddImportedNote, uow: UnitOfWork) -> bool:
    """Add the row's note unless a run of its batch did already; whether it was added now."""
    note_id = imported_note_id(cmd)
    with uow:
        added = not uow.notes.ever_existed(note_id)
        if added:
            uow.contacts.get(cmd.account_id, cmd.contact_id)  # the contact must exist in this account
            uow.notes.add(Note.add(cmd.account_id, cmd.contact_id, "note", cmd.text, note_id=note_id))
            try:
                uow.commit()
            except ConcurrencyConflict:  # another run of the batch added it meanwhile (and files it)
                return False
    # filed by this run, or again by a run after one that stopped before filing it (nothing new if it was)
    holdings.file_items(uow, cmd.account_id, cmd.contact_id, note_ids=[note_id])
    return added


def edit_note(cmd: commands.EditNote, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Note:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    with uow:
        note = note_of(uow, cmd.account_id, cmd.contact_id, cmd.note_id)
        note.edit(cmd.revision, cmd.kind, cmd.text)
        uow.commit()
    return note


def delete_note(cmd: commands.DeleteNote, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> None:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    with uow:
        note_of(uow, cmd.account_id, cmd.contact_id, cmd.note_id).delete(cmd.revision)
        uow.commit()


def note_of(uow: UnitOfWork, account_id: str, contact_id: str, note_id: str) -> Note:
    """A live note of this contact (where the latest event put it: a merge may have moved it)."""
    note = uow.notes.get(account_id, note_id)
    if note.contact_id != contact_id:
        raise NoteNotFound(note_id)
    return note
