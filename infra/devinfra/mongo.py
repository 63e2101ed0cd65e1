"""A local MongoDB-compatible server: real ``mongod`` when it is on PATH, else FerretDB (SQLite).

    server = MongoServer(free_port(), tmp_path / "db", tmp_path / "mongo.log")
    server.start(); client = pymongo.MongoClient(server.uri); ...; server.stop()
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from . import processes, provision
from .config import Config
from .ports import HOST, wait_port_free
from .processes import InfraError

KINDS = {"ferretdb": "FerretDB 1.24 (SQLite)", "mongod": "mongod"}


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


def default_kind() -> str:
    return "mongod" if shutil.which("mongod") else "ferretdb"


def running_kind(pid_path: Path) -> str | None:
    """Which server a pid file points at, if that process is alive."""
    pid = processes.read_pid(pid_path)
    if not pid or not processes.alive(pid):
        return None
    args = processes.cmdline(pid)
    exe = Path(args[0]).name if args else ""
    return "mongod" if exe.startswith("mongod") else "ferretdb" if "ferretdb" in exe else None


class MongoServer(processes.LocalServer):
    programs = ("mongod", "ferretdb")

    def __init__(self, port: int, data_dir, log_path, *, pid_path=None, kind: str | None = None,
                 binary=None):
        self.port = int(port)
        self.kind = kind or default_kind()
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        self.data_dir = Path(data_dir).resolve()
        self.log_path = Path(log_path).resolve()
        self.pid_path = Path(pid_path).resolve() if pid_path else self.data_dir.parent / f"{self.data_dir.name}.pid"
        self.binary = Path(binary) if binary else None
        self._proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def uri(self) -> str:
        return f"mongodb://{self.address}/"

    @property
    def description(self) -> str:
        return KINDS[self.kind]

    def process_marker(self) -> str:
        return str(self.data_dir)

    def is_ready(self, timeout: float = 3.0) -> bool:
        return self.is_running() and mongo_ready(self.uri, timeout)

    def _command(self) -> list[str]:
        if self.kind == "mongod":
            mongod = self.binary or shutil.which("mongod")
            if not mongod:
                raise InfraError("mongod is not on PATH any more")
            return [str(mongod), "--dbpath", str(self.data_dir), "--bind_ip", HOST, "--port", str(self.port)]
        binary = self.binary or provision.ensure_ferretdb(Config.from_env())
        return [str(binary), "-listen", self.address, "-data-dir", str(self.data_dir), "-log-level", "warn"]

    def start(self, timeout: float = 30.0) -> None:
        """Start the server (no-op if it already runs) and wait until ``ping`` succeeds."""
        if not self.is_running():
            cmd = self._command()
            if not wait_port_free(self.port):
                raise InfraError(f"port {self.port} on {HOST} is already in use by another process: "
                                 "stop it or choose another port (CRM_MONGO_PORT)")
            self.data_dir.mkdir(parents=True, exist_ok=True)
            offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            with processes.timed(f"start {self.description} on {self.address} (log {self.log_path})"):
                self._proc = processes.spawn(cmd, self.log_path, self.pid_path, cwd=self.data_dir)
                try:
                    self._wait_ready(time.monotonic() + timeout, offset)
                except BaseException:
                    self.stop()
                    raise
        else:
            self._wait_ready(time.monotonic() + timeout)

    def _wait_ready(self, deadline: float, log_offset: int = 0) -> None:
        while time.monotonic() < deadline:
            if not self.is_running():
                code = self._proc.poll() if self._proc else None
                raise InfraError(f"{self.description} exited (code {code}) before it was ready; "
                                 f"last lines of {self.log_path}:\n{processes.tail(self.log_path, offset=log_offset)}")
            if mongo_ready(self.uri, timeout=1):
                return
            time.sleep(0.2)
        raise InfraError(f"{self.description} on {self.address} did not answer ping in time; "
                         f"last lines of {self.log_path}:\n{processes.tail(self.log_path, offset=log_offset)}")
