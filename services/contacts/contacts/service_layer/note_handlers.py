"""Handlers of the note commands."""
from __future__ import annotations

from contacts.domain import commands
from contacts.domain.notes import Note
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
        note = uow.notes.get(cmd.account_id, cmd.contact_id, cmd.note_id)
        note.edit(cmd.revision, cmd.kind, cmd.text)
        uow.commit()
    return note


def delete_note(cmd: commands.DeleteNote, uow: UnitOfWork) -> None:
    with uow:
        uow.notes.get(cmd.account_id, cmd.contact_id, cmd.note_id).delete(cmd.revision)
        uow.commit()
