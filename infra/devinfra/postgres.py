"""A local PostgreSQL server for FerretDB, run from the installed server binaries.

    pg = PostgresServer(free_port(), tmp_path / "postgres", tmp_path / "postgres.log")
    pg.start(); ... pg.url (postgres://postgres@127.0.0.1:<port>/ferretdb) ...; pg.stop()

<work_dir>/data is made once by initdb, with the `ferretdb` database already in it; the unix
socket is in <work_dir> (`psql -h <work_dir> -p <port> -U postgres ferretdb`). For development and
tests only: any local user may connect as the superuser without a password (trust, 127.0.0.1
only), and fsync is off, so a machine crash (not a server crash) can corrupt the data: wipe it.

PostgreSQL refuses to run as root. Under root, initdb and the server run as the `postgres` user
(setuid in the child, so the pid we record is the server's own), which then owns <work_dir>. That
user must be able to enter <work_dir>, which a clone in /root or in a `mktemp -d` folder (0700) does
not allow: so devinfra keeps the cluster in its home instead (see work_dir_for).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import stat
import shutil
import subprocess
import time
from pathlib import Path

from . import processes
from .ports import HOST
from .processes import InfraError, PrereqError

# How often autovacuum looks for tables to analyze (and vacuum): every 5 s, not every minute. make run starts on
# empty collections that then grow by thousands of documents a minute; until a table's first ANALYZE with rows in it
# the planner read it whole for FerretDB's `_id` equalities: in the first minute of 50 writes a second on a fresh
# database, 5,355 sequential scans of the key vault (3.4 million rows read) and 3,501 of the contacts read model.
AUTOVACUUM_NAPTIME = "5s"

DATABASE = "ferretdb"
SUPERUSER = "postgres"
TOOLS = ("postgres", "initdb", "pg_isready")
SOCKET_PATH_MAX = 107  # sockaddr_un.sun_path, less the final NUL


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", bin_dir.parent.name))


def find_bin_dir() -> Path | None:
    """The server binaries: next to `postgres` on PATH, else the newest /usr/lib/postgresql/*/bin."""
    on_path = shutil.which("postgres")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    return next((d for d in candidates if all((d / tool).is_file() for tool in TOOLS)), None)


def require_bin_dir() -> Path:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PrereqError("PostgreSQL server binaries (postgres, initdb, pg_isready) not found on PATH or in "
                          "/usr/lib/postgresql/*/bin: install the PostgreSQL server (e.g. apt-get install "
                          "postgresql), or set CRM_MONGO_BACKEND=sqlite")
    return bin_dir


def server_user() -> str | None:
    """The user to run PostgreSQL as: None (ourselves), or `postgres` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PrereqError("PostgreSQL refuses to run as root and there is no `postgres` user to run it as: "
                          "create one (useradd --system postgres), or set CRM_MONGO_BACKEND=sqlite") from None
    return SUPERUSER


def clusters_root() -> Path | None:
    """Under root (with a `postgres` user to run the server as), the root-owned directory that holds one
    cluster directory per clone (CRM_POSTGRES_CLUSTERS, default /var/tmp/crm-dev-postgres); else None.

    Root-owned and not writable by that user, so it cannot plant a link where root creates and chowns a
    cluster directory (a directory in its own home would let it make root chown anything to it)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        return None
    return Path(os.environ.get("CRM_POSTGRES_CLUSTERS") or "/var/tmp/crm-dev-postgres")


def outside_work_dir(var_dir: Path) -> Path | None:
    """<clusters root>/<clone>-<hash of var_dir> under root, else None."""
    root = clusters_root()
    if root is None:
        return None
    key = hashlib.sha256(str(var_dir).encode()).hexdigest()[:12]
    return root / f"{var_dir.parent.name[:32]}-{key}"


def work_dir_for(var_dir: Path) -> Path:
    """Where devinfra keeps PostgreSQL's cluster and socket for ``var_dir``: <var_dir>/postgres, but
    under root in a directory of the clusters root (outside_work_dir), which the `postgres` user can
    enter wherever the clone is. A cluster made before in <var_dir>/postgres stays there: it was made there, so that user could
    enter it, and a server running from it must still be found (moving it would gain nothing)."""
    in_var = var_dir / "postgres"
    outside = outside_work_dir(var_dir)
    if outside is None or (in_var / "data" / "PG_VERSION").is_file():
        return in_var
    return outside


def available() -> bool:
    """True if the server binaries are installed and there is a user to run them as."""
    try:
        server_user()
    except PrereqError:
        return False
    return find_bin_dir() is not None


def postgres_ready(bin_dir: Path, port: int, timeout: int = 1) -> bool:
    """True if the server on ``port`` accepts connections (`pg_isready`)."""
    cmd = [str(bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(port), "-t", str(timeout)]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


class PostgresServer(processes.LocalServer):
    programs = ("postgres",)

    def __init__(self, port: int, work_dir, log_path, *, pid_path=None, bin_dir=None):
        self.port = int(port)
        self.work_dir = Path(work_dir).resolve()
        self.data_dir = self.work_dir / "data"
        self.log_path = Path(log_path).resolve()
        self.pid_path = Path(pid_path).resolve() if pid_path else self.work_dir / "postgres.pid"
        self.bin_dir = Path(bin_dir) if bin_dir else None
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The database FerretDB stores its data in."""
        return f"postgres://{SUPERUSER}@{self.address}/{DATABASE}"

    @property
    def description(self) -> str:
        try:
            return f"PostgreSQL {(self.data_dir / 'PG_VERSION').read_text().strip()}"
        except OSError:
            return "PostgreSQL"

    def process_marker(self) -> str:
        return str(self.data_dir)

    def is_ready(self, timeout: int = 3) -> bool:
        bin_dir = self.bin_dir or find_bin_dir()
        return bool(bin_dir) and self.is_running() and postgres_ready(bin_dir, self.port, timeout)

    def _probe(self) -> bool:
        return postgres_ready(self.bin_dir, self.port)

    def start(self, timeout: float = 30.0) -> None:
        """Start the server (no-op if it already runs; initdb on first use) and wait until it
        accepts connections."""
        self.bin_dir = self.bin_dir or require_bin_dir()
        if self.is_running():
            self._wait_ready(time.monotonic() + timeout)
            return
        user = server_user()
        processes.require_port_free(self.port, "CRM_POSTGRES_PORT")
        self._make_work_dir(user)
        self._initdb(user)
        self._launch(self._command(), timeout, cwd=self.work_dir, user=user)

    def _command(self) -> list[str]:
        socket_dir = str(self.work_dir)
        if len(f"{socket_dir}/.s.PGSQL.{self.port}") > SOCKET_PATH_MAX:
            socket_dir = ""  # too deep for a unix socket: TCP only
        return [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                "-c", f"listen_addresses={HOST}", "-c", f"unix_socket_directories={socket_dir}",
                "-c", "fsync=off",  # throwaway dev/test data: speed over crash safety
                "-c", f"autovacuum_naptime={AUTOVACUUM_NAPTIME}"]

    def _make_work_dir(self, user: str | None) -> None:
        """Create <work_dir>, owned by ``user`` if given; PrereqError if that user cannot enter it."""
        root = clusters_root()
        if user and root is not None and self.work_dir.parent == root:
            _make_root_dir(root)
            _make_cluster_dir(self.work_dir, user)
            return
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if not user:
            return
        entry = pwd.getpwnam(user)
        os.chown(self.work_dir, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        if subprocess.run(["test", "-w", str(self.work_dir)], **processes.as_user(user)).returncode != 0:
            raise PrereqError(self._unreachable(user))

    def _unreachable(self, user: str) -> str:
        """One sentence: why ``user`` cannot run the server from <work_dir>, and what to do."""
        return (f"PostgreSQL runs as the `{user}` user under root and it cannot enter {self.work_dir} (a directory "
                f"above it is private; the cluster was made there before devinfra kept clusters in "
                f"{clusters_root()}): wipe this old data (`make clean-data`) so that new data goes there, clone "
                "the repository where every user can enter, or set CRM_MONGO_BACKEND=sqlite")

    def _initdb(self, user: str | None) -> None:
        """Create the cluster and its database once, in a temporary directory renamed into place
        when complete (an interrupted first start leaves nothing half-made behind)."""
        if (self.data_dir / "PG_VERSION").is_file():
            return
        tmp = self.work_dir / f"data.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        initdb = f"initdb as {user}" if user else "initdb"
        try:
            with processes.timed(f"initdb {self.data_dir}"):
                processes.run([str(self.bin_dir / "initdb"), "-D", str(tmp), "-U", SUPERUSER, "-A", "trust",
                               "-E", "UTF8", "--locale=C", "--no-sync"], initdb, cwd=self.work_dir, user=user)
                out = processes.run([str(self.bin_dir / "postgres"), "--single", "-D", str(tmp), "postgres"],
                                    "create database", cwd=self.work_dir, user=user,
                                    input=f"CREATE DATABASE {DATABASE}\n")
                if "ERROR:" in out:  # single-user mode reports SQL errors but exits 0
                    raise InfraError(f"CREATE DATABASE {DATABASE} failed in {tmp}:\n{out[-2000:]}")
            os.rename(tmp, self.data_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _make_root_dir(path: Path) -> None:
    """The clusters root: a real directory owned by root that only root writes in (0711 when made here)."""
    try:
        os.mkdir(path, 0o711)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 \
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PrereqError(f"{path} must be a directory owned by root that only root can write in "
                          "(someone else made it, or it is a link): remove it, or set CRM_POSTGRES_CLUSTERS")


def _make_cluster_dir(path: Path, owner: str) -> None:
    """A real directory for one cluster, in the clusters root (root's alone, so nobody swaps it), owned by
    ``owner``."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PrereqError(f"{path} is not a directory (a link or a file): remove it, then start again")
    entry = pwd.getpwnam(owner)
    if info.st_uid != entry.pw_uid:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
