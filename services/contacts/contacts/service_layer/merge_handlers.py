"""Merging up to five contacts into one: the target absorbs them, their notes follow, they are deleted.

There are no multi-document transactions, so the steps are ordered to be
safe to repeat: (1) the target records ContactsMerged with everything the
sources held, (2) each source's notes move to the target, (3) each source is
deleted (ContactDeleted with merged_into) and its email/phone claims pass to
the target. If the process stops midway, running the same merge again
(without a revision) finishes it: merging what the target holds already adds
nothing, and sources merged into it already are passed over.
"""
from __future__ import annotations

from typing import Callable

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound
from contacts.domain.events import ContactDeleted
from contacts.domain.model import Contact
from contacts.domain.notes import NoteNotFound
from contacts.service_layer import duplicates
from contacts.service_layer.attachment_handlers import move_attachments
from contacts.service_layer.note_handlers import note_of
from contacts.service_layer.unit_of_work import UnitOfWork

ItemsOf = Callable[[str, str], list[str]]  # (account id, contact id) -> ids of its live notes, or attachments


def merge_contacts(cmd: commands.MergeContacts, uow: UnitOfWork, notes_of: ItemsOf,
                   attachment_ids_of: ItemsOf) -> Contact:
    with uow:
        target = uow.contacts.get(cmd.account_id, cmd.target_id)
        sources = [source for source_id in cmd.source_ids
                   if (source := _live_source(uow, cmd.account_id, source_id, target.id)) is not None]
        if not sources:  # every source was merged into the target already: a repeated request
            return target
        before = duplicates.identity_ids(target)
        target.absorb(sources, cmd.revision)
        claimed = duplicates.claim_identities(uow, target, allow_duplicates=True, skip=before)  # sources keep theirs
        try:
            uow.commit()
        except Exception:
            duplicates.release(uow, claimed, target.id)
            raise
    for source in sources:
        _move_notes(uow, cmd.account_id, source.id, target.id, notes_of)
        move_attachments(commands.MoveAttachments(cmd.account_id, source.id, target.id,
                                                  tuple(attachment_ids_of(cmd.account_id, source.id))), uow)
        with uow:
            gone = uow.contacts.get(cmd.account_id, source.id)
            held = sorted(duplicates.identity_ids(gone))
            gone.merged_into(target.id)
            uow.commit()
        duplicates.release(uow, held, source.id)
    duplicates.claim_identities(uow, target, allow_duplicates=True)  # what the sources held is the target's now
    return target


def _live_source(uow: UnitOfWork, account_id: str, source_id: str, target_id: str) -> Contact | None:
    """The source to merge; None if an earlier run of this merge already merged it into the target."""
    try:
        return uow.contacts.get(account_id, source_id)
    except ContactNotFound:
        latest = uow.contacts.latest_event(account_id, source_id)
        if latest is not None and isinstance(latest[0], ContactDeleted) and latest[0].merged_into == target_id:
            return None
        raise


def _move_notes(uow: UnitOfWork, account_id: str, source_id: str, target_id: str, notes_of: ItemsOf) -> None:
    for note_id in notes_of(account_id, source_id):
        with uow:
            try:
                note_of(uow, account_id, source_id, note_id).move_to(target_id)
            except NoteNotFound:  # deleted or moved meanwhile: nothing to move
                continue
            uow.commit()
