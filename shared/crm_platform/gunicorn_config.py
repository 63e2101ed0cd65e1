"""gunicorn settings of a service's API, the same for every service: port and app from the registry.

Prometheus multiprocess mode: each gunicorn worker writes its metric values to files in
PROMETHEUS_MULTIPROC_DIR, and /metrics (crm_platform.web_metrics) sums them. The master sets the
directory up before it forks a worker: PROMETHEUS_MULTIPROC_DIR if given, wiped of a previous run's
files, else a fresh temporary directory (removed at exit), so `make run`, the e2e system and a pod
with a writable /tmp need no step of their own.

A directory holds a marker with the pid of the master using it. A master removes or wipes only a
directory whose marker is its own or names a process no longer alive: after a USR2 upgrade the new
master (which inherits the old one's environment) makes a directory of its own instead of wiping the
old one's live files, and the old master, exiting, removes only its own. A given directory that a
live master uses is refused (one API per directory).
"""
from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import MutableMapping

from crm_platform import registry
from crm_platform.json_logging import gunicorn_logconfig
from crm_platform.settings import load_or_exit

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# The pid of the master that made PROMETHEUS_MULTIPROC_DIR: a USR2 child inherits both variables, and must not
# take the old master's directory for one given by the operator.
MADE_BY = "CRM_METRICS_DIR_MADE_BY"
MARKER = "master.pid"


def settings_for(service_name: str, *, threads: int = 4, timeout_s: int = 30) -> dict:
    """What a service's gunicorn.conf.py defines; BIND, WEB_CONCURRENCY, GUNICORN_THREADS override it."""
    service = registry.load().service(service_name)
    made: list[Path] = []  # the metrics directory, if on_starting made it (removed at exit)

    def on_starting(server):
        # Check the environment once, in the master, so a bad variable stops start-up with one clear line.
        config = importlib.import_module(f"{service.package}.config")
        load_or_exit(config.load, service.name)
        # Before any worker (which imports prometheus_client) is forked: the variable is read at import.
        directory, created = prepare_metrics_directory(service.name)
        if created:
            made.append(directory)

    def on_exit(server):
        for directory in made:
            remove_metrics_directory(directory)

    return {
        "bind": os.environ.get("BIND", f"0.0.0.0:{service.port}"),
        "wsgi_app": service.process("api").target,  # the app when the command line names none (the image's CMD)
        "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
        "threads": int(os.environ.get("GUNICORN_THREADS", str(threads))),
        "worker_class": "crm_platform.gunicorn_worker.ProblemThreadWorker",  # gthread, refusing with problems
        "timeout": timeout_s,
        # An idle keep-alive connection is closed after this long. The gateway sends a write only on a connection
        # used well within it (gateway.adapters.upstream.REUSE_FOR_A_WRITE_WITHIN_S), as one sent while it closes
        # fails unanswered and is not sent twice. gunicorn's default is 2 s.
        "keepalive": 5,
        "graceful_timeout": 20,
        "accesslog": None,  # the app logs each request as JSON
        "logconfig_dict": gunicorn_logconfig(service.name),
        "control_socket_disable": True,  # no shared ~/.gunicorn socket (two apps per host, read-only root in k8s)
        "on_starting": on_starting,
        "child_exit": child_exit,
        "on_exit": on_exit,
    }


def prepare_metrics_directory(service_name: str, environ: MutableMapping[str, str] = os.environ,
                              pid: int | None = None) -> tuple[Path, bool]:
    """An empty directory for this master's metric files, named in `environ`; and whether it was made here.

    A given PROMETHEUS_MULTIPROC_DIR keeps its place but loses the `.db` files of an earlier run (their
    counts would be added to this run's), unless a live master uses it: then SystemExit. One that another
    master made (this one is its USR2 upgrade) is left to it: this master makes its own.
    """
    pid = os.getpid() if pid is None else pid
    given = environ.get(MULTIPROC_DIR)
    if given and not environ.get(MADE_BY):
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        owner = _marked_pid(directory)
        if owner is not None and owner != pid and _alive(owner):
            raise SystemExit(f"{service_name}: {MULTIPROC_DIR}={directory} is in use by gunicorn master {owner}: "
                             f"give each API its own directory (or leave it unset for a fresh one per master)")
        for stale in directory.glob("*.db"):
            stale.unlink()
        (directory / MARKER).write_text(str(pid))
        return directory, False
    directory = Path(tempfile.mkdtemp(prefix=f"{service_name}-metrics-"))
    (directory / MARKER).write_text(str(pid))
    environ[MULTIPROC_DIR] = str(directory)
    environ[MADE_BY] = str(pid)
    return directory, True


def remove_metrics_directory(directory: Path, pid: int | None = None) -> None:
    """Remove a directory this master made, if its marker still names this master (never another's)."""
    if _marked_pid(directory) == (os.getpid() if pid is None else pid):
        shutil.rmtree(directory, ignore_errors=True)


def _marked_pid(directory: Path) -> int | None:
    try:
        return int((directory / MARKER).read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def child_exit(server, worker) -> None:
    """A worker ended: drop its live-mode gauge files (its counters stay counted, as Prometheus expects of a
    counter). The APIs record counters and histograms only, so today this removes nothing: it is there for
    a gauge an API would add in a `live*` multiprocess mode."""
    from prometheus_client import multiprocess  # here: the master imports it only once the directory is set

    multiprocess.mark_process_dead(worker.pid)
