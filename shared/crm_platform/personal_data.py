"""Crypto-shredding: personal data in events is encrypted with a key per data subject.

Events are immutable and copied everywhere (event store, Kafka, other
services). To erase a person we delete their key: every stored copy of their
personal fields becomes unreadable at once, without rewriting history.

Why our own key vault with `cryptography` rather than pymongo's
ClientEncryption: it must run unchanged on MongoDB and FerretDB, work without
the native libmongocrypt library in every image, and forget a key the moment
it is deleted (libmongocrypt keeps decrypted data keys in a process cache).
The design is the same envelope encryption: a random AES-256 data key per
subject, stored wrapped (AES-GCM) by a master key that comes from the
environment in development and from a KMS-held secret in production.
"""
from __future__ import annotations

import abc
import base64
import contextlib
import json
import os
import threading
from datetime import datetime, timezone
from typing import Iterable
from uuid import uuid4

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.id_guards import filter_by_id
from crm_platform.mongo import FEW_IDS, find_by_ids, insert_all_new
from crm_platform.query_plans import server_scans_for

ALGORITHM = "AES-256-GCM"
# Keys made together (an import's batch) share a `batch` of at most this many, read back together by one indexed
# equality on `batch` (see MongoSubjectKeyStore._documents): one statement for a consumer's batch of their events,
# where an `_id` equality each is one statement per event (FerretDB reads the whole vault for one `$in`).
KEYS_PER_BATCH = 500
BATCH_PROBES = 8  # subjects read by `_id` to find the batches of the others, before the rest are read by `_id`
LASTING_KEPT = 10_000  # lasting secrets a process keeps (one per account and kind) before it forgets them all once
SEALED_BYTES_VERSION = b"\x01"  # sealed bytes are: this version byte, a 12-byte nonce, the ciphertext and its tag


class SubjectErased(LookupError):
    """The data subject's key was deleted: their personal data can no longer be read, nor new data sealed."""

    def __init__(self, *subjects: str) -> None:
        super().__init__(*subjects)

    @property
    def subjects(self) -> tuple[str, ...]:
        return self.args


class SubjectKeyStore(abc.ABC):
    @abc.abstractmethod
    def find(self, subject: str) -> bytes | None:
        """The subject's data key, or None if it never existed or was deleted."""

    @abc.abstractmethod
    def find_or_create(self, subject: str) -> bytes:
        """The subject's data key, created on first use; SubjectErased if the subject was erased."""

    def find_many(self, subjects: list[str]) -> dict[str, bytes]:
        """The keys of those subjects that have one."""
        return {subject: key for subject in subjects if (key := self.find(subject)) is not None}

    def find_many_noting_erased(self, subjects: list[str]) -> tuple[dict[str, bytes], set[str]]:
        """The keys of those subjects that have one, and those erased for good (never to have a key again)."""
        keys = self.find_many(subjects)
        return keys, self.erased_among([subject for subject in subjects if subject not in keys])

    def find_or_create_many(self, subjects: list[str]) -> dict[str, bytes]:
        """The keys of these subjects, created where missing; SubjectErased naming every erased one."""
        erased = [subject for subject in subjects if self.is_erased(subject)]
        if erased:
            raise SubjectErased(*erased)
        return {subject: self.find_or_create(subject) for subject in subjects}

    @abc.abstractmethod
    def delete(self, subject: str) -> bool:
        """Delete the subject's key (crypto-shred) and mark the subject erased for good; True if there was a key."""

    @abc.abstractmethod
    def is_erased(self, subject: str) -> bool:
        """Whether the subject was erased (its key deleted): no key is ever created for it again."""

    def erased_among(self, subjects: list[str]) -> set[str]:
        """Those of these subjects that were erased."""
        return {subject for subject in subjects if self.is_erased(subject)}


class MongoSubjectKeyStore(SubjectKeyStore):
    """Data keys in a MongoDB collection, each wrapped by the master key.

    Deleting a key replaces its document with an erasure marker `{_id, erased_at}`
    (no key material): the marker holds the subject's `_id`, so the insert that
    would create a new key for an erased subject collides, and is refused. Keys
    made in bulk carry the `batch` they were made in (an import's), so that the
    events of those subjects, which travel together, are opened with keys read
    together; a marker has no batch.
    """

    def __init__(self, collection: Collection, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes (AES-256)")
        self._keys = collection
        self._master = AESGCM(master_key)

    def ensure_indexes(self) -> None:
        self._keys.create_index([("batch", ASCENDING)], name="batch")

    def find(self, subject: str) -> bytes | None:
        doc = self._keys.find_one({"_id": subject})
        return None if doc is None or "wrapped_key" not in doc else self._unwrap(subject, doc)

    def find_or_create(self, subject: str) -> bytes:
        # Insert first: a new subject is the common case, and a primary-key insert
        # is cheap on every server, where a lookup that misses may scan (FerretDB).
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        try:
            self._keys.insert_one(
                {
                    "_id": subject,
                    "nonce": nonce,
                    "wrapped_key": self._master.encrypt(nonce, key, subject.encode()),
                    "created_at": datetime.now(timezone.utc),
                }
            )
            return key
        except DuplicateKeyError:  # the subject has a key already (use it), or an erasure marker
            found = self.find(subject)
            if found is None:
                raise SubjectErased(subject) from None
            return found

    def find_many(self, subjects: list[str]) -> dict[str, bytes]:
        """The keys of a batch of events to open, read by the batches they were made in and by `_id` (_documents)."""
        docs = self._documents(subjects)
        return {doc["_id"]: self._unwrap(doc["_id"], doc) for doc in docs if "wrapped_key" in doc}

    def find_many_noting_erased(self, subjects: list[str]) -> tuple[dict[str, bytes], set[str]]:
        """As find_many, from the same reads: an erased subject's document is its erasure marker."""
        docs = self._documents(subjects)
        return ({doc["_id"]: self._unwrap(doc["_id"], doc) for doc in docs if "wrapped_key" in doc},
                {doc["_id"] for doc in docs if "erased_at" in doc})

    def find_or_create_many(self, subjects: list[str]) -> dict[str, bytes]:
        """New subjects (an import) in one bulk insert; those that had a key already are read."""
        subjects = list(dict.fromkeys(subjects))
        if not subjects:
            return {}
        keys = {subject: AESGCM.generate_key(bit_length=256) for subject in subjects}
        docs, batch = [], None
        for index, subject in enumerate(subjects):
            if index % KEYS_PER_BATCH == 0:
                batch = uuid4().hex
            nonce = os.urandom(12)
            docs.append({"_id": subject, "nonce": nonce, "created_at": datetime.now(timezone.utc), "batch": batch,
                         "wrapped_key": self._master.encrypt(nonce, keys[subject], subject.encode())})
        existing = [subjects[index] for index in insert_all_new(self._keys, docs)]
        if existing:
            found = self.find_many(existing)
            erased = [subject for subject in existing if subject not in found]
            if erased:
                raise SubjectErased(*erased)
            keys.update(found)
        return keys

    def delete(self, subject: str) -> bool:
        marker = {"erased_at": datetime.now(timezone.utc)}
        while True:
            where = filter_by_id(self._keys, subject, {"wrapped_key": {"$exists": True}})  # crm_platform.id_guards
            if where is not None and self._keys.replace_one(where, marker).matched_count:
                return True
            try:
                self._keys.insert_one({"_id": subject, **marker})  # erased before it had a key: refuse one later
                return False
            except DuplicateKeyError:
                if self.is_erased(subject):
                    return False
                # a key was created meanwhile: replace it

    def is_erased(self, subject: str) -> bool:
        doc = self._keys.find_one({"_id": subject}, {"erased_at": 1})
        return doc is not None and "erased_at" in doc

    def erased_among(self, subjects: list[str]) -> set[str]:
        """Read as find_many reads (never one `$in`, which reads the whole vault on FerretDB): a subject whose key
        is found in a batch is not erased, the others' documents are read by `_id`."""
        return {doc["_id"] for doc in self._documents(subjects) if "erased_at" in doc}

    def _documents(self, subjects: list[str]) -> list[dict]:
        """The vault's documents of these subjects (their keys, or erasure markers), in few statements where their
        keys were made in bulk: a subject's own document, read by `_id`, names the batch its key was made in, and
        that batch's keys come in one indexed equality (those of other subjects are dropped unopened). Up to
        BATCH_PROBES subjects are read so, while FEW_IDS or more are left and until two probes brought no other
        asked subject; the rest by `_id` each (find_by_ids). Never batches on a server that says it scans for an
        equality on `batch` (crm_platform.query_plans: FerretDB over SQLite, 2.7 s for one at 100,000 keys
        against 0.7 ms an `_id` read). Not a guess from timings: under load a batch read on FerretDB over
        PostgreSQL (17 ms idle for 500 keys) looked like a scan, and batch reads went off in the middle of
        imports (28,392 vault reads in 20 s and again 28,708 in 25 s, 6 per row imported).
        A marker has no batch: an erased subject is always read by `_id`, never taken for one without a key."""
        wanted = list(dict.fromkeys(subjects))
        asked, read, probes, misses = set(wanted), {}, 0, 0
        for subject in wanted:
            if probes >= BATCH_PROBES or misses >= 2 or len(asked) - len(read) <= FEW_IDS:
                break
            if subject in read:
                continue
            probes, before = probes + 1, len(read)
            read[subject] = probe = self._keys.find_one({"_id": subject})
            if probe is not None and probe.get("batch") is not None:
                if server_scans_for(self._keys, {"batch": probe["batch"]}):
                    break
                batch = list(self._keys.find({"batch": probe["batch"]}, batch_size=KEYS_PER_BATCH + 1))
                read.update({doc["_id"]: doc for doc in batch if doc["_id"] in asked and "wrapped_key" in doc})
            misses += len(read) - before <= 1  # keys made apart (single writes): reading their batches is waste
        found = [doc for doc in read.values() if doc is not None]
        return found + find_by_ids(self._keys, [subject for subject in wanted if subject not in read])

    def _unwrap(self, subject: str, doc: dict) -> bytes:
        try:
            return self._master.decrypt(bytes(doc["nonce"]), bytes(doc["wrapped_key"]), subject.encode())
        except InvalidTag:
            raise RuntimeError(f"data key of {subject} does not open with this master key") from None


class PersonalDataCipher:
    """Seals a dict of personal fields for one subject, and opens it while the subject's key exists."""

    def __init__(self, keys: SubjectKeyStore, lasting: Iterable[str] = ()) -> None:
        """`lasting`: the prefixes of the subjects whose secret is never shredded, an account's secrets for hashing
        identities (its duplicate claims, its privacy lookups). Such a secret is read from the vault once per
        process and kept: the same for as long as the vault lasts, it was a read on every creation and every
        polled batch. `shred` refuses them. Every other key is forgotten at the end of its block (keys_ready),
        so that a shredded key does not live on in a cache. A key vault wiped or restored under running
        processes leaves them with the secrets they kept, where new processes make or read others: restart them
        all with it (the claims and lookups hashed under the old secrets would not match the new ones anyway)."""
        self._keys = keys
        self._batch = threading.local()  # keys read in bulk for the block in progress, per thread
        self._lasting_prefixes = tuple(lasting)
        self._lasting: dict[str, bytes] = {}  # shared by the process's threads: an entry only ever holds its one value

    @contextlib.contextmanager
    def keys_ready(self, subjects: list[str], create: bool = False, read_first: bool = False):
        """Within the block, seal and open these subjects with keys read (or created) in one go.

        `create` inserts the keys first and reads those refused, the cheap order for subjects most likely new
        (a contact being created); `read_first` with it reads first and inserts the missing, for those most
        likely made already (an account's secrets): the insert a key that exists refuses is a statement, and a
        rolled-back transaction on FerretDB.

        The keys are forgotten when the block ends: a batch of events is the
        longest a key is held, so a shredded key does not live on in a cache.
        A subject found erased (its marker) is remembered for the block too:
        opening its events raises SubjectErased without reading the vault
        again (an erasure is for good: no key is ever made for it again).
        One found with neither is read again when needed (a key may be made
        meanwhile). Within an outer block (a consumer's batch), what that block
        read is used again, not read again: one event's block within its batch's
        costs nothing.
        """
        outer, outer_erased = getattr(self._batch, "keys", {}), getattr(self._batch, "erased", frozenset())
        subjects = [subject for subject in subjects
                    if subject not in outer and subject not in outer_erased and subject not in self._lasting]
        if create and read_first:
            ready, erased = self._keys.find_many_noting_erased(subjects)
            if erased:
                raise SubjectErased(*sorted(erased))  # as the insert would have been refused
            missing = [subject for subject in subjects if subject not in ready]
            ready = {**ready, **self._keys.find_or_create_many(missing)} if missing else ready
        elif create:
            ready, erased = self._keys.find_or_create_many(subjects), set()
        else:
            ready, erased = self._keys.find_many_noting_erased(subjects)
        for subject, key in ready.items():
            self._kept(subject, key)
        self._batch.keys, self._batch.erased = {**outer, **ready}, outer_erased | erased
        try:
            yield
        finally:
            self._batch.keys, self._batch.erased = outer, outer_erased

    def _stored(self, subject: str) -> bytes | None:
        """The subject's key to open with: the block's, none if the block found it erased, else the vault's."""
        if subject in getattr(self._batch, "erased", ()):
            return None
        return self._ready(subject) or self._kept(subject, self._keys.find(subject))

    def _ready(self, subject: str) -> bytes | None:
        """The key in hand: the block's, or a lasting secret the process keeps."""
        return getattr(self._batch, "keys", {}).get(subject) or self._lasting.get(subject)

    def _is_lasting(self, subject: str) -> bool:
        return bool(self._lasting_prefixes) and subject.startswith(self._lasting_prefixes)

    def _kept(self, subject: str, key: bytes | None) -> bytes | None:
        """`key`, kept for the process if it is a lasting secret's (see __init__)."""
        if key is not None and self._is_lasting(subject):
            if len(self._lasting) >= LASTING_KEPT:
                self._lasting.clear()  # read again as needed; never unbounded
            self._lasting[subject] = key
        return key

    def seal(self, subject: str, fields: dict, has_key: bool = False) -> dict:
        """`fields` sealed under the subject's key, made on first use; SubjectErased if the subject was erased.
        With `has_key` (an aggregate's later event: its first made the key), the key is read first, where the
        vault's insert-first is one refused insert more (and a rolled-back transaction on FerretDB)."""
        key = self._ready(subject) or self._kept(
            subject, (has_key and self._keys.find(subject)) or self._keys.find_or_create(subject))
        return self._sealed(subject, key, fields)

    def seal_with_existing_key(self, subject: str, fields: dict) -> dict:
        """As `seal`, with the key the subject has (the block's or the vault's), never making one: SubjectErased if
        it has none. A copy kept under another service's subject (privacy's of a contact) goes with it."""
        key = self._stored(subject)
        if key is None:
            raise SubjectErased(subject)
        return self._sealed(subject, key, fields)

    @staticmethod
    def _sealed(subject: str, key: bytes, fields: dict) -> dict:
        nonce = os.urandom(12)
        plaintext = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, subject.encode())
        return {
            "sealed": ALGORITHM,
            "subject": subject,
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }

    def open(self, sealed: dict) -> dict:
        """The personal fields; SubjectErased once the subject's key is gone."""
        if not is_sealed(sealed):
            raise ValueError("not a sealed personal-data value")
        subject = sealed["subject"]
        key = self._stored(subject)
        if key is None:
            raise SubjectErased(subject)
        plaintext = AESGCM(key).decrypt(
            base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), subject.encode()
        )
        return json.loads(plaintext)

    def secret(self, subject: str) -> bytes:
        """A random 32-byte secret of the key vault, made on first use (e.g. an account's key for hashing
        identities); SubjectErased once shredded."""
        # read first: the secret exists but once, and creating it first would make a key only to throw it away
        return self._ready(subject) or self._kept(
            subject, self._keys.find(subject) or self._keys.find_or_create(subject))

    def sealing_key(self, subject: str) -> "SubjectKey":
        """The subject's key (created on first use), to seal many byte strings such as a file's chunks."""
        return SubjectKey(subject, self._keys.find_or_create(subject))

    def opening_key(self, subject: str) -> "SubjectKey":
        """The subject's key to open sealed bytes (the one `keys_ready` read, within its block); SubjectErased once it
        is gone."""
        key = self._stored(subject)
        if key is None:
            raise SubjectErased(subject)
        return SubjectKey(subject, key)

    def shred(self, subject: str) -> bool:
        """Erase a subject: delete their key so that no sealed copy can be opened again, nor a new one made.
        ValueError for a lasting secret (see __init__): a process may keep it."""
        if self._is_lasting(subject):
            raise ValueError(f"{subject} is a lasting secret: never shredded, processes keep it")
        return self._keys.delete(subject)

    def is_erased(self, subject: str) -> bool:
        return self._keys.is_erased(subject)

    def erased_among(self, subjects: list[str]) -> set[str]:
        """Those of these subjects that were erased (a batch's, read at once)."""
        return self._keys.erased_among(subjects)


class SubjectKey:
    """One subject's data key, looked up once, sealing and opening bytes (a file is sealed chunk by chunk)."""

    def __init__(self, subject: str, key: bytes) -> None:
        self.subject = subject
        self._aead = AESGCM(key)

    def seal(self, data: bytes, context: bytes = b"") -> bytes:
        """`data` encrypted; it opens only for this subject and the same `context` (e.g. a chunk's place)."""
        nonce = os.urandom(12)
        return SEALED_BYTES_VERSION + nonce + self._aead.encrypt(nonce, data, self._associated(context))

    def open(self, sealed: bytes, context: bytes = b"") -> bytes:
        """The bytes `seal` was given; InvalidTag if they were altered or sealed for another subject or context."""
        if sealed[:1] != SEALED_BYTES_VERSION:
            raise ValueError("not sealed bytes")
        return self._aead.decrypt(sealed[1:13], sealed[13:], self._associated(context))

    def _associated(self, context: bytes) -> bytes:
        return self.subject.encode() + b"\x00" + context


def is_sealed(value: object) -> bool:
    return isinstance(value, dict) and value.get("sealed") == ALGORITHM and "subject" in value
