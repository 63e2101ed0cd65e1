"""JSON logs on stderr, each line stamped with the current request and correlation ids."""
from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from crm_platform import request_context


class _TraceFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        trace = request_context.current()
        record.service = self._service
        record.request_id = trace.request_id
        record.correlation_id = trace.correlation_id
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s %(correlation_id)s"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


def gunicorn_logconfig(service: str) -> dict:
    """A `logconfig_dict` for gunicorn.conf.py, so that gunicorn's own lines are JSON too."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"trace": {"()": _TraceFilter, "service": service}},
        "formatters": {"json": {"()": JsonFormatter, "fmt": FORMAT, "rename_fields": RENAMED}},
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["trace"], "stream": "ext://sys.stderr"}
        },
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            # gunicorn's access lines hold full query strings (?q=<a name>, custom field values): personal data.
            # The app logs each request itself, by path and status (crm_platform.web).
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record of the process to stderr as one JSON object per line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(FORMAT, rename_fields=RENAMED))
    handler.addFilter(_TraceFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kafka", "pymongo"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
