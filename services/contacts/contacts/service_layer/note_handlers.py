"""Handlers of the note commands."""
from __future__ import annotations

from contacts.domain import commands
from contacts.domain.notes import Note, NoteNotFound
from contacts.service_layer.unit_of_work import UnitOfWork


def add_note(cmd: commands.AddNote, uow: UnitOfWork) -> Note:
    with uow:
        uow.contacts.get(cmd.account_id, cmd.contact_id)  # the contact must exist in this account
        note = Note.add(cmd.account_id, cmd.contact_id, cmd.kind, cmd.text)
        uow.notes.add(note)
        uow.commit()
    return note


def edit_note(cmd: commands.EditNote, uow: UnitOfWork) -> Note:
    with uow:
        note = note_of(uow, cmd.account_id, cmd.contact_id, cmd.note_id)
        note.edit(cmd.revision, cmd.kind, cmd.text)
        uow.commit()
    return note


def delete_note(cmd: commands.DeleteNote, uow: UnitOfWork) -> None:
    with uow:
        note_of(uow, cmd.account_id, cmd.contact_id, cmd.note_id).delete(cmd.revision)
        uow.commit()


def note_of(uow: UnitOfWork, account_id: str, contact_id: str, note_id: str) -> Note:
    """A live note of this contact (where the latest event put it: a merge may have moved it)."""
    note = uow.notes.get(account_id, note_id)
    if note.contact_id != contact_id:
        raise NoteNotFound(note_id)
    return note
