"""Files (blobs) in MongoDB, cut into chunk documents that are only ever read, written and deleted by `_id`.

Not GridFS: GridFS finds a file's chunks with a `files_id` query, which
FerretDB on SQLite answers by decoding every chunk document of the
collection. Here chunk n of a blob has `_id` "<blob id>:<n, 6 digits>", so
every operation goes through the primary key, on every server.

Writing stores the chunks first and the manifest (`_id` = blob id: length,
chunk count, content type, time) last: a blob without a manifest is
incomplete and invisible to readers. A writer that fails deletes what it
wrote; chunks left by one that died are removed by `delete` of that blob id.
Deleting removes the manifest first, then the chunks from the last to the
first, so what an interrupted delete leaves is again an incomplete blob whose
chunks start at 0, which `delete` finishes.

An optional sealer encrypts each chunk (e.g. with a data subject's key, so
that shredding the key makes the file unreadable everywhere). A chunk is
sealed together with its blob id and position, so no chunk can be moved to
another place or blob. A sealed blob's manifest keeps no digest of the
content: a hash of personal data would outlive the key.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator, Protocol

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

CHUNK_SIZE = 255 * 1024


class BlobNotFound(LookupError):
    """No complete blob has this id (never written, deleted, or still being written)."""


class ChunkSealer(Protocol):
    def seal(self, data: bytes, context: bytes) -> bytes: ...

    def open(self, sealed: bytes, context: bytes) -> bytes: ...


@dataclass(frozen=True)
class BlobInfo:
    blob_id: str
    length: int
    chunk_count: int
    content_type: str
    created_at: datetime
    sealed: bool
    sha256: str | None  # hex digest of the content; not kept in a sealed blob's manifest


class BlobStore:
    """Blobs in two collections of one bucket: `<bucket>.manifests` and `<bucket>.chunks`."""

    def __init__(self, manifests: Collection, chunks: Collection, chunk_size: int = CHUNK_SIZE) -> None:
        self.manifests = manifests
        self.chunks = chunks
        self._chunk_size = chunk_size

    @classmethod
    def in_database(cls, database: Database, bucket: str) -> "BlobStore":
        return cls(database[f"{bucket}.manifests"], database[f"{bucket}.chunks"])

    def write(self, content: bytes | Iterable[bytes], content_type: str, sealer: ChunkSealer | None = None) -> BlobInfo:
        """Store `content` (bytes, or pieces of any size) as a new blob; visible to readers once complete."""
        blob_id, digest, length, count = uuid.uuid4().hex, hashlib.sha256(), 0, 0
        try:
            for piece in _chunked([content] if isinstance(content, bytes) else content, self._chunk_size):
                digest.update(piece)
                length += len(piece)
                data = sealer.seal(piece, _context(blob_id, count)) if sealer else piece
                self.chunks.insert_one({"_id": chunk_id(blob_id, count), "data": data})
                count += 1
            now = datetime.now(timezone.utc)
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as a BSON date keeps it
            info = BlobInfo(blob_id, length, count, content_type, now, sealer is not None, digest.hexdigest())
            self.manifests.insert_one({
                "_id": blob_id, "length": length, "chunk_count": count, "content_type": content_type,
                "created_at": info.created_at, "sealed": info.sealed, "sha256": None if info.sealed else info.sha256,
            })
        except BaseException:
            self._forget_failed_write(blob_id, count)
            raise
        return info

    def info(self, blob_id: str) -> BlobInfo:
        """The manifest of a complete blob; BlobNotFound otherwise."""
        doc = self.manifests.find_one({"_id": blob_id})
        if doc is None:
            raise BlobNotFound(blob_id)
        return BlobInfo(blob_id, doc["length"], doc["chunk_count"], doc["content_type"], doc["created_at"],
                        doc["sealed"], doc["sha256"])

    def read(self, blob_id: str, sealer: ChunkSealer | None = None) -> tuple[BlobInfo, Iterator[bytes]]:
        """The blob's manifest (BlobNotFound at once) and its content, read one chunk at a time as it is consumed."""
        info = self.info(blob_id)
        if info.sealed and sealer is None:
            raise ValueError(f"blob {blob_id} is sealed: give the sealer that opens it")
        return info, self._contents(info, sealer)

    def delete(self, blob_id: str) -> bool:
        """Delete a blob, complete or not; True if it was complete. Safe to repeat."""
        doc = self.manifests.find_one({"_id": blob_id}, {"chunk_count": 1})
        if doc is None:
            self._delete_leftover_chunks(blob_id)
            return False
        self.manifests.delete_one({"_id": blob_id})
        self._delete_chunks(blob_id, doc["chunk_count"])
        return True

    def _contents(self, info: BlobInfo, sealer: ChunkSealer | None) -> Iterator[bytes]:
        for n in range(info.chunk_count):
            doc = self.chunks.find_one({"_id": chunk_id(info.blob_id, n)})
            if doc is None:
                raise BlobNotFound(info.blob_id)  # deleted while being read
            data = bytes(doc["data"])
            yield sealer.open(data, _context(info.blob_id, n)) if info.sealed else data

    def _delete_leftover_chunks(self, blob_id: str) -> None:
        n = 0
        while self.chunks.delete_one({"_id": chunk_id(blob_id, n)}).deleted_count:
            n += 1

    def _delete_chunks(self, blob_id: str, count: int) -> None:
        for n in reversed(range(count)):
            self.chunks.delete_one({"_id": chunk_id(blob_id, n)})

    def _forget_failed_write(self, blob_id: str, written: int) -> None:
        # The insert that failed may have been applied all the same: one chunk more, and the manifest.
        try:
            self.manifests.delete_one({"_id": blob_id})
            self._delete_chunks(blob_id, written + 1)
        except PyMongoError:
            log.warning("could not delete the chunks of a failed blob write", extra={"blob_id": blob_id})


def chunk_id(blob_id: str, n: int) -> str:
    return f"{blob_id}:{n:06d}"


def _context(blob_id: str, n: int) -> bytes:
    return chunk_id(blob_id, n).encode()


def _chunked(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The bytes of `pieces` again, in chunks of exactly `size` bytes but the last."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
