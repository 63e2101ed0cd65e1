"""Indexes that FerretDB's pushed-down equalities can use (local development only).

On PostgreSQL (IndexKeeper):

FerretDB 1.24 sends a top-level equality to PostgreSQL as `_jsonb -> 'field' @> value`,
but the indexes it makes for `createIndexes` are B-trees on `(_jsonb -> 'field')`,
which `@>` cannot use: even a find by `_id` reads the whole table. A GIN index on
the same expression with `jsonb_path_ops` serves it (measured here: a find by `_id`
among 100,000 documents from 33 ms to 0.7 ms). For every collection of every
database, one such index for `_id` and for each field of the indexes the services
declare, found in FerretDB's own metadata tables.

On SQLite (SQLiteIndexKeeper): FerretDB 1.24 pushes down only `_id` equalities, as
`_ferretdb_sjson->'$._id' = ?`, while its unique `_id` index is on
`_ferretdb_sjson->"_id"`: SQLite uses an index on an expression only for that same
expression, so every find, update and delete by `_id` scanned the table (14.9 ms at
18,500 event commits, growing with them). An index on FerretDB's own expression serves
them (0.62 ms). One per table, from the `_ferretdb_collections` table of each database file.

Product code stays plain MongoDB: nothing in a service knows about this.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from .processes import InfraError

METADATA_TABLE = "_ferretdb_database_metadata"
PG_NAME_MAX = 63  # PostgreSQL truncates longer identifiers: keep index names unique within that


@dataclass(frozen=True)
class Collection:
    schema: str  # the MongoDB database
    table: str  # FerretDB's table of the collection
    fields: tuple[str, ...]  # `_id` and every top-level field of its declared indexes


def index_name(table: str, field: str) -> str:
    """A stable name per (table, field), within PostgreSQL's 63 characters."""
    digest = hashlib.sha1(f"{table}\0{field}".encode()).hexdigest()[:8]
    return f"{table[:40]}_gin_{digest}"


def statement(collection: Collection, field: str) -> str:
    """CREATE INDEX IF NOT EXISTS for one field of one collection: idempotent, safe to repeat."""
    quoted_field = field.replace("'", "''")
    return (f'CREATE INDEX IF NOT EXISTS "{index_name(collection.table, field)}" '
            f'ON "{collection.schema}"."{collection.table}" USING gin ((_jsonb -> \'{quoted_field}\') jsonb_path_ops)')


def collections_from(rows: list[tuple[str, str, str, str]]) -> list[Collection]:
    """Collections from metadata rows (schema, collection, table, indexes as JSON)."""
    found = []
    for schema, _, table, indexes in rows:
        fields = ["_id"]
        for index in json.loads(indexes or "null") or []:
            fields += [f for f in (index.get("key") or {}) if "." not in f and not f.startswith("$") and f not in fields]
        found.append(Collection(schema, table, tuple(fields)))
    return found


class IndexKeeper:
    """Reads FerretDB's metadata through psql and creates the indexes that are missing."""

    def __init__(self, psql: Path, port: int, database: str = "ferretdb", user: str = "postgres") -> None:
        self._command = [str(psql), "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", database,
                         "-X", "-q", "-v", "ON_ERROR_STOP=1"]

    def _sql(self, query: str) -> str:
        done = subprocess.run([*self._command, "-tA", "-F", "\t", "-c", query], capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            raise InfraError(f"psql failed: {done.stderr.strip()[:500]}")
        return done.stdout

    def _sql_unless_gone(self, query: str) -> str | None:
        """As _sql; None when a schema or table it names was dropped meanwhile (a test's or a benchmark's
        database): the others are still indexed, and not the sync but that database is done with."""
        try:
            return self._sql(query)
        except InfraError as exc:
            if "does not exist" in str(exc):
                return None
            raise

    def collections(self) -> list[Collection]:
        schemas = self._sql(f"SELECT table_schema FROM information_schema.tables WHERE table_name = '{METADATA_TABLE}'")
        rows = []
        for schema in filter(None, schemas.split("\n")):
            listed = self._sql_unless_gone(f"SELECT '{schema}', _jsonb->>'_id', _jsonb->>'table', _jsonb->'indexes' "
                                           f'FROM "{schema}"."{METADATA_TABLE}"')
            rows += [tuple(line.split("\t")) for line in (listed or "").split("\n") if line]
        return collections_from(rows)

    def existing(self) -> set[tuple[str, str]]:
        """(schema, index name) of our indexes: FerretDB gives a collection the same table name in every database."""
        listed = self._sql("SELECT schemaname, indexname FROM pg_indexes WHERE indexname LIKE '%\\_gin\\_%'")
        return {tuple(line.split("\t")) for line in listed.split("\n") if line}

    def sync(self) -> int:
        """Create every missing index; return how many were created."""
        existing, created = self.existing(), 0
        for collection in self.collections():
            missing = [f for f in collection.fields if (collection.schema, index_name(collection.table, f)) not in existing]
            made = 0
            for field in missing:
                if self._sql_unless_gone(statement(collection, field)) is None:
                    break  # its database or collection was dropped since it was listed
                made += 1
            if made:
                # PostgreSQL gathers statistics on an index's expression only at the next ANALYZE; until then it
                # guesses 1 % for every `@>` and ANDs indexes of fields every row matches (account, deleted).
                self._sql_unless_gone(f'ANALYZE "{collection.schema}"."{collection.table}"')
            created += made
        return created

    def keep(self, stop: threading.Event, every_s: float) -> None:
        """Sync now and then every `every_s` seconds until `stop` (services create collections as they go)."""
        while not stop.is_set():
            try:
                self.sync()
            except (InfraError, subprocess.TimeoutExpired) as exc:  # a dropped test database, a restart: next round
                print(f"devinfra: index sync skipped: {exc}", flush=True)
            stop.wait(every_s)


SQLITE_ID_EXPRESSION = "_ferretdb_sjson->'$._id'"  # what FerretDB 1.24 compares a pushed-down `_id` with
SQLITE_BUSY_TIMEOUT_S = 2.0


def sqlite_index_name(table: str) -> str:
    return f"{table}__id_pushdown"


def sqlite_statement(table: str) -> str:
    quoted = table.replace('"', '""')
    return (f'CREATE INDEX IF NOT EXISTS "{sqlite_index_name(table).replace(chr(34), chr(34) * 2)}" '
            f'ON "{quoted}" ({SQLITE_ID_EXPRESSION})')


class SQLiteIndexKeeper:
    """Gives each table of FerretDB's SQLite files the index of its `_id` pushdown (see the module's docstring)."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir

    def sync(self) -> int:
        """Create every missing index; return how many were created. A file that is busy (a long write) or a table
        dropped meanwhile is left for the next round."""
        created = 0
        for path in sorted(self._data_dir.glob("*.sqlite")):
            try:
                created += self._sync_file(path)
            except sqlite3.Error as exc:
                print(f"devinfra: index sync of {path.name} skipped: {exc}", flush=True)
        return created

    def _sync_file(self, path: Path) -> int:
        with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)) as db:
            listed = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_ferretdb_collections'")
            if listed.fetchone() is None:
                return 0
            tables = [row[0] for row in db.execute("SELECT table_name FROM _ferretdb_collections")]
            indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            created = 0
            for table in tables:
                if sqlite_index_name(table) in indexes:
                    continue
                try:
                    db.execute(sqlite_statement(table))
                    db.commit()
                    created += 1
                except sqlite3.OperationalError as exc:
                    if "no such table" not in str(exc):
                        raise
            return created

    def keep(self, stop: threading.Event, every_s: float) -> None:
        while not stop.is_set():
            self.sync()
            stop.wait(every_s)
