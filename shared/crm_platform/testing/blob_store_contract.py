"""The contract of the blob store; run on the in-memory collections AND the MongoDB server.

Subclass `BlobStoreContract` and provide a `blobs` fixture: a BlobStore with 1,000-byte chunks.
"""
from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.exceptions import InvalidTag

from crm_platform.blobs import BlobNotFound, chunk_id
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

CHUNK = 1000


class BrokenSealer:
    """Seals nothing, and fails after `fail_at` chunks."""

    def __init__(self, fail_at: int) -> None:
        self.contexts: list[bytes] = []
        self.fail_at = fail_at

    def seal(self, data: bytes, context: bytes) -> bytes:
        self.contexts.append(context)
        if len(self.contexts) > self.fail_at:
            raise RuntimeError("sealing failed")
        return data


def chunks_left(blobs, blob_id: str, up_to: int = 5) -> list[int]:
    return [n for n in range(up_to) if blobs.chunks.find_one({"_id": chunk_id(blob_id, n)}) is not None]


class BlobStoreContract:
    def test_content_comes_back_as_written_one_chunk_at_a_time(self, blobs):
        data = os.urandom(2 * CHUNK + 500)
        info = blobs.write([data[:10], data[10:1700], data[1700:]], "application/pdf")
        assert (info.length, info.chunk_count, info.sha256) == (len(data), 3, hashlib.sha256(data).hexdigest())
        read_info, contents = blobs.read(info.blob_id)
        assert read_info == info
        assert [len(chunk) for chunk in contents] == [CHUNK, CHUNK, 500]
        assert b"".join(blobs.read(info.blob_id)[1]) == data

    def test_an_empty_blob_has_no_chunk(self, blobs):
        info = blobs.write(b"", "text/plain")
        assert info.chunk_count == 0 and list(blobs.read(info.blob_id)[1]) == []

    def test_chunks_are_read_as_they_are_consumed(self, blobs):
        info = blobs.write(os.urandom(2 * CHUNK), "image/png")
        _, contents = blobs.read(info.blob_id)
        assert len(next(contents)) == CHUNK
        blobs.delete(info.blob_id)
        with pytest.raises(BlobNotFound):
            next(contents)

    def test_sealed_chunks_hold_no_plaintext_and_open_only_in_their_place(self, blobs):
        key = PersonalDataCipher(InMemorySubjectKeyStore()).sealing_key("contact:1")
        data = b"Louise Desnotes, 3 rue du Papier " * 100
        info = blobs.write(data, "text/plain", sealer=key)
        assert info.sealed and info.sha256 == hashlib.sha256(data).hexdigest()
        assert blobs.info(info.blob_id).sha256 is None  # no digest of personal data outlives the key
        first, second = (blobs.chunks.find_one({"_id": chunk_id(info.blob_id, n)}) for n in (0, 1))
        assert b"Louise" not in bytes(first["data"])
        assert b"".join(blobs.read(info.blob_id, sealer=key)[1]) == data
        with pytest.raises(ValueError):
            blobs.read(info.blob_id)
        blobs.chunks.delete_one({"_id": first["_id"]})
        blobs.chunks.insert_one({"_id": first["_id"], "data": second["data"]})
        with pytest.raises(InvalidTag):
            list(blobs.read(info.blob_id, sealer=key)[1])

    def test_a_failed_write_leaves_nothing(self, blobs):
        sealer = BrokenSealer(fail_at=2)
        with pytest.raises(RuntimeError):
            blobs.write(os.urandom(3 * CHUNK), "application/pdf", sealer=sealer)
        blob_id = sealer.contexts[0].decode().split(":")[0]
        assert chunks_left(blobs, blob_id) == []
        with pytest.raises(BlobNotFound):
            blobs.info(blob_id)

    def test_a_blob_without_manifest_is_invisible_and_delete_removes_its_chunks(self, blobs):
        for n in range(3):  # what a writer that died before its manifest leaves
            blobs.chunks.insert_one({"_id": chunk_id("dead", n), "data": b"x"})
        with pytest.raises(BlobNotFound):
            blobs.read("dead")
        assert blobs.delete("dead") is False
        assert chunks_left(blobs, "dead") == []

    def test_delete_removes_manifest_and_chunks_and_is_safe_to_repeat(self, blobs):
        info = blobs.write(os.urandom(3 * CHUNK), "application/zip")
        assert blobs.delete(info.blob_id) is True
        assert blobs.delete(info.blob_id) is False
        assert chunks_left(blobs, info.blob_id) == []
        with pytest.raises(BlobNotFound):
            blobs.info(info.blob_id)
