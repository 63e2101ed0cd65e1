"""MongoDB clients created lazily, once per process (a MongoClient is not fork-safe)."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from pymongo import MongoClient
from pymongo.errors import BulkWriteError, ExecutionTimeout, OperationFailure, PyMongoError, WriteError, WTimeoutError

from crm_platform.errors import DependencyUnavailable, InvalidInput

# Write errors that say "not this data": bad value, type mismatch, $-prefixed, dotted, empty or immutable field
# names, validation, document or key too large, duplicate key. Only these (and the PostgreSQL refusals below)
# are the data's fault; anything else, known or not, is waited out as an outage: dead-lettering events
# during an outage would lose them.
_DATA_CODES = frozenset({2, 9, 14, 28, 52, 55, 56, 57, 66, 121, 10334, 11000, 17280})
# FerretDB answers PostgreSQL's refusal of a value with code 1, as it does a lost connection: tell them by text.
_POSTGRES_DATA_ERRORS = ("unsupported Unicode escape sequence", "invalid byte sequence", "invalid input syntax")


class MongoConnection:
    """Builds its MongoClient on first use in each process, so gunicorn workers never share one."""

    def __init__(self, uri: str, app_name: str, server_selection_timeout_ms: int = 5_000,
                 connect_timeout_ms: int = 5_000, socket_timeout_ms: int = 60_000, **client_options) -> None:
        self._uri = uri
        self._app_name = app_name
        # a server that cannot be found or reached, or stops answering mid-statement, is an outage
        # (ServerSelectionTimeoutError, NetworkTimeout), waited out by the loops: never a hang
        self._timeouts = {"serverSelectionTimeoutMS": server_selection_timeout_ms,
                          "connectTimeoutMS": connect_timeout_ms, "socketTimeoutMS": socket_timeout_ms}
        self._client_options = client_options  # more MongoClient options (e.g. event listeners to count statements)
        self._client: MongoClient | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: dict, app_name: str) -> "MongoConnection":
        """The connection to MONGO_URI with the timeouts of the settings (see crm_platform.settings)."""
        return cls(settings["MONGO_URI"], app_name,
                   server_selection_timeout_ms=settings["MONGO_SERVER_SELECTION_TIMEOUT_MS"],
                   connect_timeout_ms=settings["MONGO_CONNECT_TIMEOUT_MS"],
                   socket_timeout_ms=settings["MONGO_SOCKET_TIMEOUT_MS"])

    @property
    def client(self) -> MongoClient:
        if self._client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    self._client = MongoClient(self._uri, appname=self._app_name, tz_aware=True, **self._timeouts,
                                               **self._client_options)
                    self._pid = os.getpid()
        return self._client

    def database(self, name: str):
        return self.client[name]

    def answers(self) -> bool:
        """True when the server answers `ping`."""
        try:
            self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False


DUPLICATE_KEY = 11000
# Up to this many ids, statements go one `_id` equality each rather than one `$in`: FerretDB pushes an
# equality down to PostgreSQL (indexed there by devinfra) but reads the whole collection for an `$in`.
# MongoDB serves both from its primary key. (The relay marks many commits one equality after the other.)
FEW_IDS = 20
# `find_by_ids` reads more ids than FEW_IDS on this many threads, still one `_id` equality each: an `$in` costs
# what the collection holds, not what is asked (200 subject keys from a vault of 50,000 on FerretDB 1.24 on
# PostgreSQL: 2.8-4.3 s with one `$in`, 0.16-0.43 s with 200 equalities in a row, 0.08-0.25 s on 8 threads;
# benchmarks/batch_key_reads.py, docs/figures.md).
READ_THREADS = 8
_pools: dict[str, tuple[int, ThreadPoolExecutor]] = {}  # name -> (the process that made it, the pool)
_pools_lock = threading.Lock()


def find_by_ids(collection, ids: list, projection: dict | None = None) -> list[dict]:
    """The documents of these `_id`s (those that exist), each read by an `_id` equality, an indexed shape on
    every server; more than FEW_IDS on a few threads, so that the round trips overlap."""
    found = read_each(lambda doc_id: collection.find_one({"_id": doc_id}, projection), ids)
    return [doc for doc in found if doc is not None]


def find_each(collection, field: str, values: list, projection: dict | None = None,
              where: dict | None = None) -> list[dict]:
    """The documents whose `field` equals one of `values` (and that match the equalities `where`, e.g. the
    account): one indexed equality per value (on a few threads past FEW_IDS), never an `$in`, which FerretDB
    answers by reading the whole collection (an event store's heads of 200 aggregates among 31,000 commits:
    11.8 s with one `$in`, 0.6 s with an equality each, in a row)."""
    found = read_each(lambda value: list(collection.find({**(where or {}), field: value}, projection)), values)
    return [doc for docs in found for doc in docs]


def read_each(read, values: list) -> list:
    """`read(value)` for each distinct value, in that order: in a row up to FEW_IDS, else on the reader threads
    (a read made of indexed equalities of its own, such as a chain of `_id` lookups)."""
    return _each(read, values, _reader_pool)


def write_each(write, values: list) -> list:
    """`write(value)` for each distinct value, in that order: in a row up to FEW_IDS, else on the writer threads
    (a statement of its own each, such as an update whose filter differs per document)."""
    return _each(write, values, _writer_pool)


def update_by_ids(collection, ids: list, update: dict) -> None:
    """Apply `update` to the documents of these `_id`s, one `_id` equality each (on a few threads past
    FEW_IDS): never one `$in`, which FerretDB answers by reading the whole collection, nor one bulk write of
    many statements, which FerretDB 1.24 on PostgreSQL did not answer (2,000 UpdateOne in one bulk_write:
    no answer after 10 minutes, with its connection pool to PostgreSQL held; docs/figures.md, "The relay and
    the import pipeline"). 2,000 updates by `_id` on FerretDB 1.24: 4.3 s one after the other, 1.9 s on 8
    threads."""
    write_each(lambda doc_id: collection.update_one({"_id": doc_id}, update), ids)


def delete_by_ids(collection, ids: list) -> None:
    """Delete the documents of these `_id`s, one `_id` equality each (on a few threads past FEW_IDS), as
    update_by_ids and for the same reasons."""
    write_each(lambda doc_id: collection.delete_one({"_id": doc_id}), ids)


def _each(statement, values: list, pool) -> list:
    """`statement(value)` for each distinct value, in order: in a row up to FEW_IDS, else on `pool`'s threads. The
    first error is raised (the statements not started yet are then not sent)."""
    values = list(dict.fromkeys(values))
    if len(values) <= FEW_IDS:
        return [statement(value) for value in values]
    return list(pool().map(statement, values))


def _reader_pool() -> ThreadPoolExecutor:
    return _pool("find-by-ids")


def _writer_pool() -> ThreadPoolExecutor:
    """The writes' own pool (update_by_ids, delete_by_ids): a relay marking thousands of commits does not queue
    ahead of the reads of the consumers of the same worker (their batch's keys)."""
    return _pool("write-by-ids")


def _pool(name: str) -> ThreadPoolExecutor:
    """The process's pool of that name, made on first use (threads do not survive a fork)."""
    with _pools_lock:
        made = _pools.get(name)
        if made is None or made[0] != os.getpid():
            made = _pools[name] = (os.getpid(), ThreadPoolExecutor(READ_THREADS, thread_name_prefix=name))
        return made[1]


def is_outage(exc: BaseException) -> bool:
    """Whether a database error means the server cannot answer now (wait it out), not that it refused the data."""
    return not is_data_error(exc)


def is_data_error(exc: BaseException) -> bool:
    """Whether the server refused this data (retrying it will never succeed)."""
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return bool(errors) and all(error.get("code") in _DATA_CODES for error in errors)
    if isinstance(exc, WriteError):
        return exc.code in _DATA_CODES
    if isinstance(exc, OperationFailure) and not isinstance(exc, (ExecutionTimeout, WTimeoutError)):
        return any(marker in str(exc) for marker in _POSTGRES_DATA_ERRORS)
    return False


class DataRefused(InvalidInput):
    """The database refused a value (e.g. text PostgreSQL cannot store under FerretDB): bad data, not an outage."""

    title = "Data refused by the database"
    slug = "data-refused"


def translated(exc: PyMongoError, what: str) -> Exception:
    """The typed error for a database failure: DependencyUnavailable for an outage, DataRefused for bad data."""
    if is_outage(exc):
        return DependencyUnavailable(f"{what} unavailable: {type(exc).__name__}")
    return DataRefused(f"{what} refused the data: {type(exc).__name__}", errors={"_schema": ["cannot be stored"]})


def insert_all_new(collection, documents: list[dict]) -> list[int]:
    """Insert in one unordered bulk statement; the indexes of the documents refused because their key
    exists already (the others are stored). Any other error raises."""
    if not documents:
        return []
    try:
        collection.insert_many(documents, ordered=False)
        return []
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return sorted(error["index"] for error in errors)
