"""A local MongoDB-compatible server: real ``mongod``, or FerretDB on PostgreSQL or on SQLite.

    server = MongoServer(free_port(), tmp_path / "db", tmp_path / "mongo.log", kind="sqlite")
    server.start(); client = pymongo.MongoClient(server.uri); ...; server.stop()

FerretDB on PostgreSQL stores its data in a running PostgreSQL database (see devinfra.postgres)::

    MongoServer(port, pg.work_dir, log, kind="postgresql", postgresql_url=pg.url)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from . import postgres, processes, provision
from .config import Config
from .ports import HOST
from .processes import InfraError

KINDS = {"postgresql": "FerretDB 1.24 (PostgreSQL)", "sqlite": "FerretDB 1.24 (SQLite)", "mongod": "mongod"}
# Go's garbage collector paced for FerretDB: it runs when the heap has grown 400 % since the last collection, not
# Go's default 100 %. FerretDB allocates for every document it converts and keeps little (a heap of a few MB), so
# collecting a quarter as often costs little memory (resident size 44 MB either way, measured) and took a sixth
# of its CPU off each operation: 0.49 -> 0.41 ms per insert, find or update by `_id` (the 1 KB documents of
# an ad-hoc loop of 9,000 of them against a second FerretDB beside make run's, two runs each); 1000 gave no more.
# A GOGC in the environment wins.
FERRETDB_GOGC = "400"


def ferretdb_environment() -> dict:
    """The environment FerretDB starts in: ours, with GOGC at FERRETDB_GOGC unless it is set."""
    return {"GOGC": FERRETDB_GOGC, **os.environ}


def mongo_ready(uri: str, timeout: float = 3.0) -> bool:
    """True if the server at ``uri`` answers ``ping`` within ``timeout`` seconds."""
    import pymongo

    ms = max(500, int(timeout * 1000))
    try:
        with pymongo.MongoClient(uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms) as client:
            client.admin.command("ping")
        return True
    except Exception:
        return False


def choose_kind(backend: str = "auto") -> str:
    """The kind for a CRM_MONGO_BACKEND value: ``auto`` is mongod if on PATH, else FerretDB on
    PostgreSQL if its server binaries are installed (B-tree tables: ~20x faster than SQLite at
    100k documents), else FerretDB on SQLite."""
    if backend != "auto":
        return backend
    if shutil.which("mongod"):
        return "mongod"
    return "postgresql" if postgres.available() else "sqlite"


def running_kind(pid_path: Path) -> str | None:
    """Which server a pid file points at, if that process is alive."""
    pid = processes.read_pid(pid_path)
    if not pid or not processes.alive(pid):
        return None
    args = processes.cmdline(pid)
    exe = Path(args[0]).name if args else ""
    if exe.startswith("mongod"):
        return "mongod"
    if "ferretdb" in exe:
        return "postgresql" if "-postgresql-url" in args else "sqlite"
    return None


class MongoServer(processes.LocalServer):
    programs = ("mongod", "ferretdb")

    def __init__(self, port: int, data_dir, log_path, *, pid_path=None, kind: str | None = None,
                 binary=None, postgresql_url: str | None = None):
        self.port = int(port)
        self.kind = kind or choose_kind()
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        if self.kind == "postgresql" and not postgresql_url:
            raise ValueError("FerretDB on PostgreSQL needs postgresql_url")
        self.data_dir = Path(data_dir).resolve()  # with kind="postgresql": PostgreSQL's, not created here
        self.log_path = Path(log_path).resolve()
        self.pid_path = Path(pid_path).resolve() if pid_path else self.data_dir.parent / f"{self.data_dir.name}.pid"
        self.binary = Path(binary) if binary else None
        self.postgresql_url = postgresql_url
        self._proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.address}/"

    @property
    def description(self) -> str:
        return KINDS[self.kind]

    def process_marker(self) -> str:
        return self.postgresql_url if self.kind == "postgresql" else str(self.data_dir)

    def is_ready(self, timeout: float = 3.0) -> bool:
        return self.is_running() and mongo_ready(self.uri, timeout)

    def _probe(self) -> bool:
        return mongo_ready(self.uri, timeout=1)

    def _command(self) -> list[str]:
        if self.kind == "mongod":
            mongod = self.binary or shutil.which("mongod")
            if not mongod:
                raise InfraError("mongod is not on PATH any more")
            return [str(mongod), "--dbpath", str(self.data_dir), "--bind_ip", HOST, "--port", str(self.port)]
        binary = self.binary or provision.ensure_ferretdb(Config.from_env())
        store = ["-postgresql-url", self.postgresql_url] if self.kind == "postgresql" else \
            ["-data-dir", str(self.data_dir)]
        return [str(binary), "-listen", self.address, *store, "-log-level", "warn"]

    def start(self, timeout: float = 30.0) -> None:
        """Start the server (no-op if it already runs) and wait until ``ping`` succeeds."""
        if self.is_running():
            self._wait_ready(time.monotonic() + timeout)
            return
        cmd = self._command()
        processes.require_port_free(self.port, "CRM_MONGO_PORT")
        cwd = None
        if self.kind != "postgresql":
            self.data_dir.mkdir(parents=True, exist_ok=True)
            cwd = self.data_dir
        self._launch(cmd, timeout, cwd=cwd, env=None if self.kind == "mongod" else ferretdb_environment())
