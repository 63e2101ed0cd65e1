"""Moving a contact's notes and files to another contact (a merge), each step safe to repeat after a failure.

The contact moved to need not be live: a merge moves items onto a target that may itself be merged away
meanwhile, and that target's holdings then pass them on (holdings.py).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain import commands
from contacts.domain.attachments import PROFILE_PICTURE, Attachment, AttachmentNotFound, StoredFile, picture_id
from contacts.service_layer.unit_of_work import UnitOfWork


def move_note(uow: UnitOfWork, account_id: str, note_id: str, from_contact_id: str, to_contact_id: str) -> bool:
    """Move the note if it is on `from_contact_id`; whether it is on `to_contact_id` now (moved now or before)."""
    with uow:
        note = uow.notes.find(account_id, note_id)
        if note is None or note.deleted or note.contact_id not in (from_contact_id, to_contact_id):
            return False  # deleted, erased, or elsewhere
        if note.contact_id == from_contact_id:
            note.move_to(to_contact_id)
            uow.commit()
    return True


def move_attachments(cmd: commands.MoveAttachments, uow: UnitOfWork) -> list[str]:
    """Re-point a contact's attachments to another contact (for a merge); the ids moved onto it now.

    Each content is copied, sealed with the target contact's key, and the
    original deleted. The target keeps its own profile picture if it has one,
    and then gets the other as a plain file. Safe to repeat after a failure.
    """
    moved = [attachment_id for attachment_id in cmd.attachment_ids if _move_file(cmd, attachment_id, uow)]
    picture = _move_picture(cmd, uow)
    return moved + ([picture] if picture else [])


def attachment_of(uow: UnitOfWork, account_id: str, contact_id: str, attachment_id: str) -> Attachment:
    """A live attachment of this contact; AttachmentNotFound for another contact's, a deleted or an erased one."""
    attachment = uow.attachments.get(account_id, attachment_id)
    if attachment.contact_id != contact_id:
        raise AttachmentNotFound(attachment_id)
    return attachment


@contextmanager
def discarded_unless_committed(files: AttachmentFiles, written: list[str]):
    """Delete the blobs listed in `written` if the block fails (its events were not stored)."""
    try:
        yield
    except BaseException:
        files.discard(written)
        raise


def _move_file(cmd: commands.MoveAttachments, attachment_id: str, uow: UnitOfWork) -> bool:
    written: list[str] = []
    with uow, discarded_unless_committed(uow.files, written):
        try:
            attachment = attachment_of(uow, cmd.account_id, cmd.from_contact_id, attachment_id)
        except AttachmentNotFound:
            return False  # moved already, or deleted
        if attachment.kind == PROFILE_PICTURE:
            return False  # it moves with _move_picture: a picture's id is its contact's
        original = attachment.file
        attachment.move_to(cmd.to_contact_id, _copy(uow, original, cmd, written))
        uow.commit()
    uow.files.discard(original.blob_ids)
    return True


def _move_picture(cmd: commands.MoveAttachments, uow: UnitOfWork) -> str | None:
    with uow:
        source = uow.attachments.find_or_blank(cmd.account_id, picture_id(cmd.from_contact_id))
    if not source.live:
        return None
    original = source.file
    written: list[str] = []
    with uow, discarded_unless_committed(uow.files, written):
        target = uow.attachments.find_or_blank(cmd.account_id, picture_id(cmd.to_contact_id))
        if target.live:
            target = Attachment.add_file(cmd.account_id, cmd.to_contact_id,
                                         _copy(uow, replace(original, thumbnail_blob_id=None), cmd, written))
            uow.attachments.add(target)
        else:
            target.set_as_picture(_copy(uow, original, cmd, written))
        uow.commit()
    with uow:  # the picture copied, at the revision read: a picture set meanwhile is a conflict, never deleted
        uow.attachments.add(source)
        source.delete()
        uow.commit()
    uow.files.discard(original.blob_ids)
    return target.id


def _copy(uow: UnitOfWork, file: StoredFile, cmd: commands.MoveAttachments, written: list[str]) -> StoredFile:
    """The file's blobs copied from one contact to the other, sealed with the other's key."""
    copies = {}
    for blob_id in file.blob_ids:
        copies[blob_id] = uow.files.copy(blob_id, cmd.from_contact_id, cmd.to_contact_id).blob_id
        written.append(copies[blob_id])
    return replace(file, blob_id=copies[file.blob_id], thumbnail_blob_id=copies.get(file.thumbnail_blob_id))
