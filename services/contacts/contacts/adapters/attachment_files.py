"""Attachment contents in the blob store, every chunk sealed with the data key of the contact they belong to.

Sealing with the contact's key means that erasing the contact (deleting its
key) makes its files unreadable too, wherever a copy of their chunks lies.
"""
from __future__ import annotations

import logging
from typing import Iterable, Iterator

from pymongo.errors import PyMongoError

from crm_platform.blobs import BlobInfo, BlobStore
from crm_platform.personal_data import PersonalDataCipher

from contacts.domain.events import data_subject

log = logging.getLogger(__name__)


class AttachmentFiles:
    def __init__(self, blobs: BlobStore, cipher: PersonalDataCipher) -> None:
        self._blobs = blobs
        self._cipher = cipher

    def store(self, contact_id: str, content: bytes | Iterable[bytes], content_type: str) -> BlobInfo:
        """Write the content as a new blob sealed for the contact."""
        return self._blobs.write(content, content_type, self._cipher.sealing_key(data_subject(contact_id)))

    def open(self, contact_id: str, blob_id: str) -> tuple[BlobInfo, Iterator[bytes]]:
        """The blob's manifest and content (streamed); SubjectErased or BlobNotFound before anything is read."""
        key = self._cipher.opening_key(data_subject(contact_id))
        return self._blobs.read(blob_id, key)

    def copy(self, blob_id: str, from_contact_id: str, to_contact_id: str) -> BlobInfo:
        """A new blob with the same content, sealed for another contact (streamed, one chunk at a time)."""
        info, contents = self.open(from_contact_id, blob_id)
        return self.store(to_contact_id, contents, info.content_type)

    def discard(self, blob_ids: Iterable[str]) -> None:
        """Delete blobs no event refers to any more, as far as the database lets us: what stays is unreachable."""
        blob_ids = list(blob_ids)
        try:
            for blob_id in blob_ids:
                self._blobs.delete(blob_id)
        except PyMongoError:
            log.warning("could not delete blobs no event refers to", extra={"blob_ids": blob_ids})
