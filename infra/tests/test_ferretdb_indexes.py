"""devinfra keeps FerretDB-on-PostgreSQL's tables indexed for the equalities FerretDB pushes down."""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pymongo
import pytest

from devinfra import postgres, provision
from devinfra.config import Config
from devinfra.ferretdb_indexes import (SQLITE_ID_EXPRESSION, Collection, IndexKeeper, SQLiteIndexKeeper,
                                      collections_from, index_name, sqlite_index_name, statement)
from devinfra.mongo import MongoServer
from devinfra.ports import free_ports
from devinfra.postgres import PostgresServer

BIN_DIR = postgres.find_bin_dir()


def test_every_collection_gets_id_and_its_declared_index_fields_once():
    rows = [("crm_contacts", "contacts", "contacts_1a2b", '[{"key": {"_id": 1}}, {"key": {"account_id": 1, '
             '"deleted": 1, "created_at": -1, "_id": -1}}, {"key": {"emails.address": 1}}]'),
            ("crm_gateway", "accounts", "accounts_3c4d", "null")]
    contacts, accounts = collections_from(rows)
    assert contacts == Collection("crm_contacts", "contacts_1a2b", ("_id", "account_id", "deleted", "created_at"))
    assert accounts.fields == ("_id",)
    sql = statement(contacts, "account_id")
    assert sql.startswith(f'CREATE INDEX IF NOT EXISTS "{index_name("contacts_1a2b", "account_id")}"')
    assert "USING gin ((_jsonb -> 'account_id') jsonb_path_ops)" in sql
    assert len(index_name("t" * 63, "f")) <= 63 and index_name("t", "a") != index_name("t", "b")


@pytest.fixture
def ferretdb():
    """A FerretDB on a PostgreSQL of its own, in a scratch directory: (a client, PostgreSQL's port)."""
    if BIN_DIR is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    binary = provision.ferretdb_binary_path(Config.from_env())
    if not binary.is_file():
        pytest.skip("FerretDB is not built: python -m devinfra provision")
    scratch = Path(tempfile.mkdtemp(prefix="devinfra-index-"))
    scratch.chmod(0o755)  # the postgres user must reach it when we run as root
    try:
        pg_port, mongo_port = free_ports(2)
        with PostgresServer(pg_port, scratch / "postgres", scratch / "postgres.log") as pg:
            server = MongoServer(mongo_port, pg.work_dir, scratch / "mongo.log", pid_path=scratch / "mongo.pid",
                                 kind="postgresql", postgresql_url=pg.url, binary=binary)
            with server, pymongo.MongoClient(server.uri) as client:
                yield client, pg_port
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_the_pushed_down_equalities_use_the_indexes_and_a_second_sync_creates_none(ferretdb):
    client, pg_port = ferretdb
    things = client.shop.things
    things.insert_many([{"_id": f"t-{i}", "account_id": f"a-{i % 7}"} for i in range(500)])
    things.create_index([("account_id", 1)], name="by_account")
    keeper = IndexKeeper(BIN_DIR / "psql", pg_port)
    assert keeper.sync() == 2 and keeper.sync() == 0
    [collection] = keeper.collections()
    # 500 rows: the planner would rather scan; forbidding it shows the index serves the query
    plan = keeper._sql("SET enable_seqscan = off; EXPLAIN SELECT _jsonb FROM "
                       f'"shop"."{collection.table}" WHERE _jsonb -> \'_id\' @> \'"t-5"\'')
    assert "Bitmap Index Scan" in plan and index_name(collection.table, "_id") in plan
    assert things.find_one({"_id": "t-5"}) == {"_id": "t-5", "account_id": "a-5"}
    assert things.count_documents({"account_id": "a-3"}) == len(range(3, 500, 7))
    # statistics on the new expressions, or the planner guesses 1 % for every `@>`, ANDs the
    # index of a field every row matches (account, deleted) and rechecks the whole account
    stats = keeper._sql("SELECT count(*) FROM pg_stats WHERE schemaname = 'shop' AND tablename = "
                        f"'{index_name(collection.table, 'account_id')}'")
    assert int(stats) == 1


def test_a_collection_of_the_same_name_in_another_database_gets_its_own_indexes(ferretdb):
    """FerretDB names a collection's table after the collection alone: `contacts` has the same table
    name in every database (the service's and each test run's), so an index name is only unique per schema."""
    client, pg_port = ferretdb
    keeper = IndexKeeper(BIN_DIR / "psql", pg_port)
    client.first.contacts.insert_one({"_id": "c-1"})
    assert keeper.sync() == 1
    client.second.contacts.insert_one({"_id": "c-1"})
    assert keeper.sync() == 1 and keeper.sync() == 0
    tables = {c.schema: c.table for c in keeper.collections()}
    assert tables["first"] == tables["second"]  # the reason for this test
    indexed = keeper._sql("SELECT schemaname FROM pg_indexes WHERE indexname = "
                          f"'{index_name(tables['second'], '_id')}'").split()
    assert sorted(indexed) == ["first", "second"]


def test_a_database_dropped_while_a_sync_runs_is_passed_over_and_the_others_are_indexed(ferretdb):
    """Tests and benchmarks drop their databases whenever they end: a sync then met a schema or table that no
    longer existed and failed whole (the benchmarks ran `devinfra index` in a loop until it got through)."""
    client, pg_port = ferretdb
    client.kept.things.insert_one({"_id": "t-1"})
    client.dropped.things.insert_one({"_id": "t-1"})

    class DroppingMeanwhile(IndexKeeper):
        def collections(self):
            listed = super().collections()
            client.drop_database("dropped")  # after the listing, before its indexes
            return listed

    keeper = DroppingMeanwhile(BIN_DIR / "psql", pg_port)
    assert sorted(c.schema for c in IndexKeeper(BIN_DIR / "psql", pg_port).collections()) == [
        "dropped", "kept"]
    assert keeper.sync() == 1
    assert [c.schema for c in keeper.collections()] == ["kept"] and keeper.sync() == 0


@pytest.fixture
def ferretdb_on_sqlite(tmp_path):
    """A FerretDB on SQLite in a scratch directory: (a client, its data directory)."""
    binary = provision.ferretdb_binary_path(Config.from_env())
    if not binary.is_file():
        pytest.skip("FerretDB is not built: python -m devinfra provision")
    port, = free_ports(1)
    server = MongoServer(port, tmp_path / "data", tmp_path / "mongo.log", pid_path=tmp_path / "mongo.pid",
                         kind="sqlite", binary=binary)
    with server, pymongo.MongoClient(server.uri) as client:
        yield client, tmp_path / "data"


def test_on_sqlite_a_find_by_id_uses_the_index_of_ferretdbs_own_expression(ferretdb_on_sqlite):
    client, data_dir = ferretdb_on_sqlite
    client.shop.things.insert_many([{"_id": f"t-{i}", "n": i} for i in range(300)])
    client.shop.others.insert_one({"_id": "o-1"})
    keeper = SQLiteIndexKeeper(data_dir)
    assert keeper.sync() == 2 and keeper.sync() == 0
    with sqlite3.connect(data_dir / "shop.sqlite") as db:
        [table] = [row[0] for row in db.execute("SELECT table_name FROM _ferretdb_collections WHERE name = 'things'")]
        plan = " ".join(str(row) for row in db.execute(
            f'EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "{table}" WHERE {SQLITE_ID_EXPRESSION} = ?', ('"t-5"',)))
    assert f"USING INDEX {sqlite_index_name(table)}" in plan
    assert client.shop.things.find_one({"_id": "t-5"}) == {"_id": "t-5", "n": 5}
    client.shop.things.update_one({"_id": "t-6"}, {"$set": {"n": -6}})
    assert client.shop.things.find_one({"_id": "t-6"})["n"] == -6
    client.drop_database("shop")
    assert keeper.sync() == 0
