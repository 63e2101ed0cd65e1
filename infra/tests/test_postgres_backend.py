"""FerretDB on PostgreSQL as devinfra runs it: start, ready, stop, nothing left behind; and which
backend is chosen. Free ports and scratch directories only, never the default ones."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pymongo
import pytest

from devinfra import cli, mongo, postgres, provision
from devinfra.config import Config
from devinfra.mongo import MongoServer, choose_kind, running_kind
from devinfra.ports import free_ports
from devinfra.postgres import PostgresServer

BIN_DIR = postgres.find_bin_dir()
needs_postgres = pytest.mark.skipif(BIN_DIR is None, reason="PostgreSQL server binaries are not installed")


@pytest.fixture
def scratch():
    """A directory the `postgres` user can reach when we run as root (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="devinfra-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def ferretdb_binary() -> Path:
    binary = provision.ferretdb_binary_path(Config.from_env())
    if not binary.is_file():
        pytest.skip("FerretDB is not built: python -m devinfra provision")
    return binary


def processes_left(pgids: set[int], path: Path) -> list[str]:
    """`ps` lines of processes in one of ``pgids`` (a server's children) or naming ``path``."""
    out = subprocess.run(["ps", "-eo", "pid=,pgid=,args="], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines()
            if int(line.split()[1]) in pgids or str(path) in line.split(None, 2)[2]]


def sql(pg: PostgresServer, query: str) -> str:
    cmd = [str(BIN_DIR / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "ferretdb",
           "-tAc", query]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


@needs_postgres
def test_postgres_starts_with_its_database_restarts_on_its_data_and_stops_completely(scratch):
    pg = PostgresServer(free_ports(1)[0], scratch / "postgres", scratch / "postgres.log")
    pgids = set()
    for _ in range(2):  # the second start reuses the cluster made by the first
        pg.start()
        pgids.add(pg.pid())
        assert pg.is_ready() and pg.description.startswith("PostgreSQL ")
        assert sql(pg, "SELECT current_database()") == "ferretdb"
        assert sql(pg, "SHOW autovacuum_naptime") == postgres.AUTOVACUUM_NAPTIME == "5s"  # growing tables analyzed
        owner = os.stat(f"/proc/{pg.pid()}").st_uid
        assert owner == (pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid())
        assert pg.stop() == "SIGTERM"
        assert not pg.is_running()
    assert processes_left(pgids, scratch) == []


@needs_postgres
def test_ferretdb_on_postgresql_keeps_documents_across_restarts(scratch, ferretdb_binary):
    pg_port, mongo_port = free_ports(2)
    with PostgresServer(pg_port, scratch / "postgres", scratch / "postgres.log") as pg:
        server = MongoServer(mongo_port, pg.work_dir, scratch / "mongo.log", pid_path=scratch / "mongo.pid",
                             kind="postgresql", postgresql_url=pg.url, binary=ferretdb_binary)
        with server:
            assert running_kind(server.pid_path) == "postgresql"
            with pymongo.MongoClient(server.uri) as client:
                client.devinfra_test.items.insert_one({"_id": "a", "n": 1})
            ferret_pid = server.pid()
            started_in = Path(f"/proc/{ferret_pid}/environ").read_bytes().split(b"\0")
            assert f"GOGC={os.environ.get('GOGC', mongo.FERRETDB_GOGC)}".encode() in started_in
        assert not server.is_running()
        with server, pymongo.MongoClient(server.uri) as client:
            assert client.devinfra_test.items.find_one({"_id": "a"}) == {"_id": "a", "n": 1}
        pg_pid = pg.pid()
    assert processes_left({ferret_pid, pg_pid}, scratch) == []


def test_ferretdb_starts_with_gogc_400_unless_the_environment_sets_one(monkeypatch):
    monkeypatch.delenv("GOGC", raising=False)
    assert mongo.ferretdb_environment()["GOGC"] == mongo.FERRETDB_GOGC == "400"
    monkeypatch.setenv("GOGC", "150")
    assert mongo.ferretdb_environment()["GOGC"] == "150"
    assert mongo.ferretdb_environment()["PATH"] == os.environ["PATH"]


@needs_postgres
def test_cli_runs_postgres_under_ferretdb_and_a_backend_switch_does_not_lose_track(
        scratch, ferretdb_binary, monkeypatch, capsys):
    pg_port, mongo_port, smtp_port = free_ports(3)
    for name, value in {"CRM_VAR_DIR": scratch / "var", "CRM_POSTGRES_PORT": pg_port, "CRM_MONGO_PORT": mongo_port,
                        "CRM_SMTP_PORT": smtp_port, "CRM_MONGO_BACKEND": "postgresql",
                        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("MONGO_URI", raising=False)  # make test points it at its own server
    monkeypatch.setitem(cli.EXTERNAL, "kafka", (lambda target: True, "KAFKA_BOOTSTRAP_SERVERS"))  # not under test

    assert cli.main(["up", "--timeout", "30"]) == 0
    pgids = {cli.postgres_server(Config.from_env()).pid(), cli.mongo_server(Config.from_env()).pid(),
             cli.smtp_sink(Config.from_env()).pid()}
    monkeypatch.setenv("CRM_MONGO_BACKEND", "sqlite")  # what runs is still found from its pid files
    capsys.readouterr()
    assert cli.main(["status"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["postgres"].startswith("postgres ready") and "server=PostgreSQL 1" in lines["postgres"]
    assert lines["mongo"].endswith("server=FerretDB 1.24 (PostgreSQL) (local)")
    assert lines["smtp"].startswith("smtp     ready")

    pg_dir = cli.postgres_server(Config.from_env()).work_dir  # under root in ~postgres, not in the var dir
    assert (pg_dir / "data" / "PG_VERSION").is_file()
    assert cli.main(["down", "--wipe"]) == 0
    err = capsys.readouterr().err
    assert err.index("mongo: stopped") < err.index("postgres: stopped")
    assert not pg_dir.exists() and not (scratch / "var" / "postgres").exists()
    assert processes_left(pgids, scratch) == []


def test_auto_backend_prefers_mongod_then_postgresql_then_sqlite(monkeypatch):
    on_path = {"mongod"}
    monkeypatch.setattr(mongo.shutil, "which", lambda name: f"/bin/{name}" if name in on_path else None)
    monkeypatch.setattr(postgres, "find_bin_dir", lambda: Path("/usr/lib/postgresql/15/bin"))
    assert choose_kind("auto") == "mongod"
    on_path.clear()
    assert choose_kind("auto") == "postgresql"
    monkeypatch.setattr(postgres, "find_bin_dir", lambda: None)
    assert choose_kind("auto") == "sqlite"
    assert choose_kind("postgresql") == "postgresql"


def test_asking_for_postgresql_without_it_installed_says_so_and_exits_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_MONGO_BACKEND", "postgresql")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.setattr(postgres, "find_bin_dir", lambda: None)
    assert cli.main(["provision"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "PostgreSQL server binaries" in err and "CRM_MONGO_BACKEND=sqlite" in err


def test_an_unknown_backend_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("CRM_MONGO_BACKEND", "oracle")
    assert cli.main(["env"]) == 1
    assert "CRM_MONGO_BACKEND='oracle' is not one of auto, postgresql, sqlite, mongod" in capsys.readouterr().err
