"""The exchange store of privacy exports: where each service leaves its part of a person's export for the
privacy service to assemble (issue 13).

A platform bucket shared by the services taking part in privacy requests, as the key vault is: one database
(`PRIVACY_EXCHANGE_DB`), one blob bucket, every blob sealed under `privacy-export:<request id>`. Shredding
that key when the export expires (or once assembled) makes every part unreadable at once, wherever a copy of
its chunks lies; `discard` then frees the space.

A part is one JSON document (UTF-8) written last, listing the files written before it, so that a part that
can be read is complete:

    {"service": "billing",
     "about": {"categories": [...], "purposes": [...], "recipients": [...], "retention": "...", "source": "..."},
     "data": {"invoices": [{...}, ...], ...},   # each top-level list of flat objects also becomes a CSV
     "files": [{"name": "invoices/F-2026-0001.pdf", "content_type": ..., "blob_id": ..., "length": ...}]}

Every blob written is listed under its request (`exports.by_request`), so that the privacy service discards
them all when the export expires, the files inside parts and the blobs of a part come late included, though
none can be read any more.

`about` says, for the manifest of the export (GDPR Art. 15(1)): the categories of personal data held, the
purposes of the processing, the recipients, how long it is kept, and where it came from.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from crm_platform.blobs import BlobInfo, BlobStore
from crm_platform.contracts.privacy import EXPORT_SUBJECT
from crm_platform.personal_data import PersonalDataCipher

BUCKET = "exports"
INDEX = f"{BUCKET}.by_request"  # blob id -> its request: every blob of a request found, even once unreadable
PART_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class ExportFile:
    name: str  # its path inside the service's folder of the ZIP, e.g. "attachments/<id>-contract.pdf"
    content_type: str
    content: bytes | Iterable[bytes]


class ExportExchange:
    def __init__(self, blobs: BlobStore, cipher: PersonalDataCipher, index=None) -> None:
        self._blobs = blobs
        self._cipher = cipher
        self._index = index  # a collection, or None: blobs_of then knows nothing

    @classmethod
    def in_database(cls, database, cipher: PersonalDataCipher) -> "ExportExchange":
        return cls(BlobStore.in_database(database, BUCKET), cipher, database[INDEX])

    def write_part(self, request_id: str, service: str, about: dict, data: dict,
                   files: Iterable[ExportFile] = ()) -> str:
        """Store the files, then the part listing them; the part's blob id (for SubjectDataExported)."""
        key = self._cipher.sealing_key(_subject(request_id))
        listed = []
        for file in files:
            info = self._write(request_id, file.content, file.content_type, key)
            listed.append({"name": file.name, "content_type": file.content_type, "blob_id": info.blob_id,
                           "length": info.length})
        part = {"service": service, "about": about, "data": data, "files": listed}
        body = json.dumps(part, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        return self._write(request_id, body, PART_CONTENT_TYPE, key).blob_id

    def read_part(self, request_id: str, blob_id: str) -> dict:
        """The part; BlobNotFound if missing, SubjectErased once the export's key is shredded."""
        _, contents = self._blobs.read(blob_id, self._cipher.opening_key(_subject(request_id)))
        return json.loads(b"".join(contents))

    def open_file(self, request_id: str, blob_id: str) -> tuple[BlobInfo, Iterator[bytes]]:
        return self._blobs.read(blob_id, self._cipher.opening_key(_subject(request_id)))

    def write_file(self, request_id: str, content: bytes | Iterable[bytes], content_type: str) -> BlobInfo:
        """A blob of the request (the assembled ZIP), sealed as its parts are."""
        return self._write(request_id, content, content_type, self._cipher.sealing_key(_subject(request_id)))

    def shred(self, request_id: str) -> bool:
        """Make every blob of the request unreadable at once (its key deleted); True if there was a key."""
        return self._cipher.shred(_subject(request_id))

    def discard(self, blob_ids: Iterable[str]) -> None:
        """Free the space of blobs already unreadable (or no longer needed)."""
        for blob_id in blob_ids:
            self._blobs.delete(blob_id)
            if self._index is not None:
                self._index.delete_one({"_id": blob_id})

    def blobs_of(self, request_id: str) -> list[str]:
        """Every blob written for the request and not discarded (parts, their files, ZIPs), readable or not."""
        if self._index is None:
            return []
        return sorted(doc["_id"] for doc in self._index.find({"request_id": request_id}, {"_id": 1}))

    def _write(self, request_id: str, content, content_type: str, key) -> BlobInfo:
        info = self._blobs.write(content, content_type, key)
        if self._index is not None:  # a writer dying between the two leaves one blob unlisted (never readable)
            self._index.update_one({"_id": info.blob_id}, {"$set": {"request_id": request_id}}, upsert=True)
        return info


def _subject(request_id: str) -> str:
    return EXPORT_SUBJECT.format(request_id=request_id)
