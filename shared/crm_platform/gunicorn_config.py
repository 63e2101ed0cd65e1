"""gunicorn settings of a service's API, the same for every service: port and app from the registry."""
from __future__ import annotations

import importlib
import os

from crm_platform import registry
from crm_platform.json_logging import gunicorn_logconfig
from crm_platform.settings import load_or_exit


def settings_for(service_name: str, *, threads: int = 4, timeout_s: int = 30) -> dict:
    """What a service's gunicorn.conf.py defines; BIND, WEB_CONCURRENCY, GUNICORN_THREADS override it."""
    service = registry.load().service(service_name)

    def on_starting(server):
        # Check the environment once, in the master, so a bad variable stops start-up with one clear line.
        config = importlib.import_module(f"{service.package}.config")
        load_or_exit(config.load, service.name)

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
    }
