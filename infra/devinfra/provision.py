"""Download the Kafka jars and build FerretDB into the cache (once; reused afterwards)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from .config import Config, kafka_version
from .processes import InfraError, PrereqError, run, say, timed

GO_TOOLCHAIN = "go1.24.4"  # fetched via the Go proxy when the local Go is older than go.mod asks
FERRET_SOURCES = ("go.mod", "go.sum", "main.go")


def require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise PrereqError(f"{tool} not found: {hint}")
    return path


def require_java() -> str:
    return require("java", "install a JDK 17+ or set KAFKA_BOOTSTRAP_SERVERS to an existing broker")


def kafka_lib_dir(cfg: Config) -> Path:
    return cfg.cache_dir / f"kafka-{kafka_version(cfg.kafka_pom)}" / "lib"


def ensure_kafka_jars(cfg: Config) -> Path:
    """<cache>/kafka-<version>/lib with the broker's runtime closure, via Maven on first use."""
    version = kafka_version(cfg.kafka_pom)
    lib = kafka_lib_dir(cfg)
    if (lib / f"kafka_2.13-{version}.jar").is_file():
        return lib
    mvn = require("mvn", f"install Maven (needed once to download Kafka {version} into {lib.parent}) "
                         "or set KAFKA_BOOTSTRAP_SERVERS to an existing broker")
    tmp = lib.with_name(f"lib.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with timed(f"download Kafka {version} jars from Maven Central into {lib}"):
            run([mvn, "-q", "-B", "-f", str(cfg.kafka_pom), "dependency:copy-dependencies",
                 "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"], "Maven download")
            if not (tmp / f"kafka_2.13-{version}.jar").is_file():
                raise InfraError(f"Maven finished but kafka_2.13-{version}.jar is not in {tmp}")
            try:
                os.rename(tmp, lib)  # atomic: lib/ exists only when complete
            except OSError:
                if not lib.is_dir():  # not a concurrent provisioner winning the race
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(f"{len(list(lib.glob('*.jar')))} jars in {lib}")
    return lib


def ferretdb_hash(src: Path) -> str:
    h = hashlib.sha256()
    for name in FERRET_SOURCES:
        h.update(name.encode() + b"\0" + (src / name).read_bytes() + b"\0")
    return h.hexdigest()[:12]


def ferretdb_binary_path(cfg: Config) -> Path:
    return cfg.cache_dir / f"ferretdb-{ferretdb_hash(cfg.ferretdb_src)}"


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def _go_env(go: str, src: Path) -> dict:
    """Environment for `go build`: switch toolchain when the local Go is older than go.mod wants."""
    env = dict(os.environ)
    local = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    m = re.search(r"^go\s+(\S+)", (src / "go.mod").read_text(), re.M)
    wanted = m.group(1) if m else "0"
    if _version_tuple(local) >= _version_tuple(wanted):
        return env
    if _version_tuple(local) < (1, 21):
        raise PrereqError(f"{local} is too old to build FerretDB: install Go {wanted}+ "
                          "(or put mongod on PATH, or set MONGO_URI to an existing MongoDB)")
    pinned = GO_TOOLCHAIN if _version_tuple(GO_TOOLCHAIN) >= _version_tuple(wanted) else \
        f"go{wanted}{'.0' if wanted.count('.') == 1 else ''}"
    env["GOTOOLCHAIN"] = os.environ.get("CRM_GO_TOOLCHAIN") or pinned
    say(f"local {local} is older than go {wanted} in go.mod: building with GOTOOLCHAIN={env['GOTOOLCHAIN']}")
    return env


def ensure_ferretdb(cfg: Config) -> Path:
    """<cache>/ferretdb-<hash of go.mod+go.sum+main.go>, built with Go when missing."""
    target = ferretdb_binary_path(cfg)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    go = require("go", "install Go 1.24+ (needed once to build FerretDB), put mongod on PATH, "
                       "or set MONGO_URI to an existing MongoDB")
    src = cfg.ferretdb_src
    env = _go_env(go, src)
    cfg.cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cfg.cache_dir / f".{target.name}.tmp-{os.getpid()}"
    try:
        with timed(f"build FerretDB ({src}) into {target} (first time: ~1-2 min on 2 cores)"):
            run([go, "build", "-buildvcs=false", "-o", str(tmp), "."], "go build", cwd=src, env=env)
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    for old in cfg.cache_dir.glob("ferretdb-*"):  # binaries of older sources (SQLite-only ones included)
        if old != target and re.fullmatch(r"ferretdb-(sqlite-)?[0-9a-f]{12}", old.name):
            old.unlink(missing_ok=True)
    return target
