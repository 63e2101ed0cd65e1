"""Where things live and which ports they use, from environment variables.

CRM_CACHE_DIR   downloaded/built artefacts, outside the repo   (default ~/.cache/crm-dev)
CRM_VAR_DIR     data, logs and pid files, safe to wipe         (default <repo>/var; as root,
                PostgreSQL's data goes to /var/tmp/crm-dev-postgres/<clone>-<hash of this path>)
CRM_KAFKA_PORT  broker port; the KRaft controller uses +1      (default 29092)
CRM_MONGO_PORT  MongoDB wire-protocol port                     (default 27117)
CRM_POSTGRES_PORT  PostgreSQL under FerretDB                   (default 25432)
CRM_SMTP_PORT   the SMTP sink keeping mails in <var>/mail       (default 22525)
CRM_POSTGRES_CLUSTERS  under root: where clusters live, root-owned (default /var/tmp/crm-dev-postgres)
CRM_MONGO_BACKEND  auto | postgresql | sqlite | mongod         (default auto: mongod if on PATH,
                   else FerretDB on PostgreSQL if its server binaries are found, else on SQLite)
KAFKA_BOOTSTRAP_SERVERS / MONGO_URI  use an existing server instead of starting one
CRM_REPO_DIR    the repository, if devinfra is not imported from <repo>/infra
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import postgres
from .ports import HOST
from .processes import InfraError

KAFKA_PORT = 29092
MONGO_PORT = 27117
POSTGRES_PORT = 25432
SMTP_PORT = 22525  # the default of the services' SMTP_PORT (crm_platform.settings.MailSettings) too
MONGO_BACKENDS = ("auto", "postgresql", "sqlite", "mongod")


def find_repo() -> Path:
    """The repository root: the directory that holds infra/kafka/pom.xml."""
    candidates = []
    if os.environ.get("CRM_REPO_DIR"):
        candidates.append(Path(os.environ["CRM_REPO_DIR"]))
    candidates.append(Path(__file__).resolve().parent.parent.parent)
    cwd = Path.cwd().resolve()
    candidates += [cwd, *cwd.parents]
    for c in candidates:
        if (c / "infra" / "kafka" / "pom.xml").is_file():
            return c.resolve()
    raise InfraError("cannot find the repository's infra/ directory: run from inside the repo or set CRM_REPO_DIR")


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65535:
        raise InfraError(f"{name}={raw!r} is not a valid TCP port number")
    return int(raw)


def _same_endpoint(value: str, local: str) -> bool:
    norm = lambda s: s.strip().rstrip("/").replace("localhost", HOST)  # noqa: E731
    return norm(value) == norm(local)


@dataclass(frozen=True)
class Config:
    repo_dir: Path
    cache_dir: Path
    var_dir: Path
    kafka_port: int
    mongo_port: int
    postgres_port: int
    smtp_port: int
    mongo_backend: str  # one of MONGO_BACKENDS
    kafka_external: str | None  # KAFKA_BOOTSTRAP_SERVERS when it names another broker
    mongo_external: str | None  # MONGO_URI when it names another server

    @classmethod
    def from_env(cls) -> "Config":
        repo = find_repo()
        cache = Path(os.environ.get("CRM_CACHE_DIR") or Path.home() / ".cache" / "crm-dev")
        var = Path(os.environ.get("CRM_VAR_DIR") or repo / "var")
        kport, mport = _int_env("CRM_KAFKA_PORT", KAFKA_PORT), _int_env("CRM_MONGO_PORT", MONGO_PORT)
        pport = _int_env("CRM_POSTGRES_PORT", POSTGRES_PORT)
        sport = _int_env("CRM_SMTP_PORT", SMTP_PORT)
        backend = os.environ.get("CRM_MONGO_BACKEND", "").strip().lower() or "auto"
        if backend not in MONGO_BACKENDS:
            raise InfraError(f"CRM_MONGO_BACKEND={backend!r} is not one of {', '.join(MONGO_BACKENDS)}")
        kext = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip() or None
        mext = os.environ.get("MONGO_URI", "").strip() or None
        # A shell that ran `eval "$(python -m devinfra env)"` points at our own servers:
        # those are still ours to start and stop, not external ones.
        if kext and _same_endpoint(kext, f"{HOST}:{kport}"):
            kext = None
        if mext and _same_endpoint(mext, f"mongodb://{HOST}:{mport}/"):
            mext = None
        return cls(repo, cache.expanduser().resolve(), var.expanduser().resolve(), kport, mport, pport, sport,
                   backend, kext, mext)

    # --- repository inputs -------------------------------------------------
    @property
    def kafka_pom(self) -> Path:
        return self.repo_dir / "infra" / "kafka" / "pom.xml"

    @property
    def ferretdb_src(self) -> Path:
        return self.repo_dir / "infra" / "ferretdb"

    # --- var layout --------------------------------------------------------
    @property
    def kafka_dir(self) -> Path:
        return self.var_dir / "kafka"

    @property
    def postgres_dir(self) -> Path:
        """<var>/postgres, or under root a directory in the `postgres` user's home (see postgres.work_dir_for)."""
        return postgres.work_dir_for(self.var_dir)

    @property
    def mail_dir(self) -> Path:
        """Where the SMTP sink keeps each mail it receives as an .eml file."""
        return self.var_dir / "mail"

    def mongo_data_dir(self, kind: str) -> Path:
        """Where a MongoDB server of ``kind`` (see mongo.KINDS) keeps its data."""
        dirs = {"mongod": self.var_dir / "mongod", "postgresql": self.postgres_dir}
        return dirs.get(kind, self.var_dir / "ferretdb")

    def log_path(self, name: str) -> Path:
        return self.var_dir / "log" / f"{name}.log"

    def pid_path(self, name: str) -> Path:
        return self.var_dir / "run" / f"{name}.pid"

    @property
    def wipeable(self) -> list[Path]:
        """Only these directories are ever deleted (CRM_VAR_DIR itself may be anything): subdirectories
        of the var dir, and PostgreSQL's own directory for it in the clusters root (under root)."""
        outside = postgres.outside_work_dir(self.var_dir)
        return [self.var_dir / d for d in ("kafka", "ferretdb", "postgres", "mongod", "mail", "log")] + \
            ([outside] if outside else [])

    def ensure_var(self) -> None:
        fresh = not self.var_dir.exists()
        for d in ("log", "run"):
            (self.var_dir / d).mkdir(parents=True, exist_ok=True)
        if fresh:  # keep generated data out of git without touching the repo's .gitignore
            (self.var_dir / ".gitignore").write_text("# created by devinfra\n*\n")

    # --- endpoints ---------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_external or f"{HOST}:{self.kafka_port}"

    @property
    def mongo_uri(self) -> str:
        return self.mongo_external or f"mongodb://{HOST}:{self.mongo_port}/"

    @property
    def smtp_host(self) -> str:
        return HOST


def kafka_version(pom: Path) -> str:
    m = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom.read_text())
    if not m:
        raise InfraError(f"no <kafka.version> property in {pom}")
    return m.group(1)
