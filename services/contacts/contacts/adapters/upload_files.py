"""Files uploaded for import, in the blob store, every chunk sealed with a key of the import's own.

An uploaded file holds the personal data of everyone in it, and no erasure of
one contact can reach inside it. So it is sealed with a data key whose subject
is the import id, and forgetting the import (deleted by the account, or
expired: see import_retention.py) shreds that key: every copy of its chunks,
and its failed rows sealed with the same key, become unreadable at once.
Imports stored before sealing are read as they are.
"""
from __future__ import annotations

from crm_platform.blobs import BlobInfo, BlobStore
from crm_platform.personal_data import PersonalDataCipher


class UploadFiles:
    def __init__(self, blobs: BlobStore, cipher: PersonalDataCipher) -> None:
        self._blobs = blobs
        self._cipher = cipher

    def store(self, import_id: str, data: bytes, content_type: str) -> BlobInfo:
        """Write the file as a new blob sealed with the import's key."""
        return self._blobs.write(data, content_type, self._cipher.sealing_key(import_id))

    def read(self, record: dict) -> bytes:
        """The whole uploaded file of an import record; SubjectErased once forgotten."""
        sealer = self._cipher.opening_key(record["_id"]) if record.get("sealed") else None
        _, contents = self._blobs.read(record["blob_id"], sealer)
        return b"".join(contents)

    def forget(self, record: dict) -> bool:
        """Shred the import's key (first: from then on nothing of it opens), then delete the blob; False if the key
        was shredded already."""
        destroyed = self._cipher.shred(record["_id"])
        if record.get("blob_id"):
            self._blobs.delete(record["blob_id"])
        return destroyed
