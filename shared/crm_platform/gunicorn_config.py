"""gunicorn settings of a service's API, the same for every service: port and app from the registry.

Prometheus multiprocess mode: each gunicorn worker writes its metric values to files in
PROMETHEUS_MULTIPROC_DIR, and /metrics (crm_platform.web_metrics) sums them. The master sets the
directory up before it forks a worker: PROMETHEUS_MULTIPROC_DIR if given, wiped of a previous run's
files, else a fresh temporary directory (removed at exit), so `make run`, the e2e system and a pod
with a writable /tmp need no step of their own. When a worker exits, its live gauges are dropped.
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
            shutil.rmtree(directory, ignore_errors=True)

    return {
        "bind": os.environ.get("BIND", f"0.0.0.0:{service.port}"),
        "wsgi_app": service.process("api").target,  # the app when the command line names none (the image's CMD)
        "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
        "threads": int(os.environ.get("GUNICORN_THREADS", str(threads))),
        "worker_class": "gthread",
        "timeout": timeout_s,
        "graceful_timeout": 20,
        "accesslog": None,  # the app logs each request as JSON
        "logconfig_dict": gunicorn_logconfig(service.name),
        "control_socket_disable": True,  # no shared ~/.gunicorn socket (two apps per host, read-only root in k8s)
        "on_starting": on_starting,
        "child_exit": child_exit,
        "on_exit": on_exit,
    }


def prepare_metrics_directory(service_name: str, environ: MutableMapping[str, str] = os.environ) -> tuple[Path, bool]:
    """An empty directory for this run's metric files, named in `environ`; and whether it was made here.

    A given PROMETHEUS_MULTIPROC_DIR keeps its place but loses the `.db` files of an earlier run
    (their counts would be added to this run's); one API per directory.
    """
    given = environ.get(MULTIPROC_DIR)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return directory, False
    directory = Path(tempfile.mkdtemp(prefix=f"{service_name}-metrics-"))
    environ[MULTIPROC_DIR] = str(directory)
    return directory, True


def child_exit(server, worker) -> None:
    """A worker ended: drop its live gauges (its counters stay counted, as Prometheus expects of a counter)."""
    from prometheus_client import multiprocess  # here: the master imports it only once the directory is set

    multiprocess.mark_process_dead(worker.pid)
