"""Handlers of the attachment commands, and the reads that open a file's content.

A content is written to the blob store before its event is committed and
deleted again if the commit fails; the blobs of a replaced, moved or deleted
file are deleted once the commit that let go of them is done. A new file or
picture is then filed in its contact's holdings, so that a merge finds it
(moving.py moves them).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from crm_platform.blobs import BlobInfo, BlobNotFound
from crm_platform.personal_data import SubjectErased
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from contacts.adapters import images
from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain import commands
from contacts.domain.attachments import Attachment, AttachmentNotFound, NoProfilePicture, StoredFile, picture_id
from contacts.domain.file_types import IMAGE_TYPES, CheckedFile, check_file
from contacts.service_layer import holdings
from contacts.service_layer.moving import attachment_of, discarded_unless_committed
from contacts.service_layer.unit_of_work import UnitOfWork


def add_attachment(cmd: commands.AddAttachment, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Attachment:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    checked = check_file(cmd.file_name, cmd.content_type, cmd.data, max_bytes=cmd.max_bytes)
    if checked.content_type in IMAGE_TYPES:
        images.check_image(cmd.data, checked.content_type)
    written: list[str] = []
    with uow, discarded_unless_committed(uow.files, written):
        uow.contacts.get(cmd.account_id, cmd.contact_id)  # the contact must exist in this account
        file = _store(uow, cmd.contact_id, checked, cmd.data, written)
        attachment = Attachment.add_file(cmd.account_id, cmd.contact_id, file)
        uow.attachments.add(attachment)
        uow.commit()
    holdings.file_items(uow, cmd.account_id, cmd.contact_id, attachment_ids=[attachment.id])
    return attachment


def set_profile_picture(cmd: commands.SetProfilePicture, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Attachment:
    """The new picture with its thumbnail; the one it replaces is deleted."""
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    checked = check_file(cmd.file_name, cmd.content_type, cmd.data, max_bytes=cmd.max_bytes, allowed=IMAGE_TYPES)
    images.check_image(cmd.data, checked.content_type)
    small, small_type = images.thumbnail(cmd.data, checked.content_type)
    written: list[str] = []
    with uow, discarded_unless_committed(uow.files, written):
        uow.contacts.get(cmd.account_id, cmd.contact_id)
        thumbnail = uow.files.store(cmd.contact_id, small, small_type)
        written.append(thumbnail.blob_id)
        picture = uow.attachments.find_or_blank(cmd.account_id, picture_id(cmd.contact_id))
        replaced = picture.set_as_picture(replace(_store(uow, cmd.contact_id, checked, cmd.data, written),
                                                  thumbnail_blob_id=thumbnail.blob_id))
        uow.commit()
    if replaced is not None:
        uow.files.discard(replaced.blob_ids)
    holdings.file_items(uow, cmd.account_id, cmd.contact_id, attachment_ids=[picture.id])
    return picture


def delete_attachment(cmd: commands.DeleteAttachment, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> None:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    with uow:
        attachment = attachment_of(uow, cmd.account_id, cmd.contact_id, cmd.attachment_id)
        attachment.delete()
        uow.commit()
    uow.files.discard(attachment.file.blob_ids)


def delete_profile_picture(cmd: commands.DeleteProfilePicture, uow: UnitOfWork, restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> None:
    restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])  # Art. 18: kept, not edited
    with uow:
        picture = uow.attachments.find_or_blank(cmd.account_id, picture_id(cmd.contact_id))
        if not picture.live:
            raise NoProfilePicture(cmd.contact_id)
        picture.delete()
        uow.commit()
    uow.files.discard(picture.file.blob_ids)


def get_attachment(account_id: str, contact_id: str, attachment_id: str, uow: UnitOfWork) -> Attachment:
    """A live attachment of a live contact, read from its events: there the moment it was added."""
    with uow:
        uow.contacts.get(account_id, contact_id)
        return attachment_of(uow, account_id, contact_id, attachment_id)


def open_attachment(account_id: str, contact_id: str, attachment_id: str,
                    uow: UnitOfWork) -> tuple[Attachment, BlobInfo, Iterator[bytes]]:
    """The attachment with its content, to stream."""
    attachment = get_attachment(account_id, contact_id, attachment_id, uow)
    return attachment, *_open(uow.files, attachment, False, AttachmentNotFound(attachment_id))


def open_profile_picture(account_id: str, contact_id: str, uow: UnitOfWork,
                         thumbnail: bool = False) -> tuple[Attachment, BlobInfo, Iterator[bytes]]:
    """The contact's profile picture with its content (or thumbnail), to stream."""
    with uow:
        uow.contacts.get(account_id, contact_id)
        picture = uow.attachments.find_or_blank(account_id, picture_id(contact_id))
    if not picture.live:
        raise NoProfilePicture(contact_id)
    return picture, *_open(uow.files, picture, thumbnail, NoProfilePicture(contact_id))


def _open(files: AttachmentFiles, attachment: Attachment, thumbnail: bool,
          missing: Exception) -> tuple[BlobInfo, Iterator[bytes]]:
    blob_id = attachment.file.thumbnail_blob_id if thumbnail else attachment.file.blob_id
    if blob_id is None:
        raise missing
    try:
        return files.open(attachment.contact_id, blob_id)
    except (SubjectErased, BlobNotFound):  # erased contact, or deleted since its event was read
        raise missing from None


def _store(uow: UnitOfWork, contact_id: str, checked: CheckedFile, data: bytes, written: list[str]) -> StoredFile:
    blob = uow.files.store(contact_id, data, checked.content_type)
    written.append(blob.blob_id)
    return StoredFile(checked.file_name, checked.content_type, checked.size, blob.sha256, blob.blob_id)
