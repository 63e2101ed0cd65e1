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


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record of the process to stderr as one JSON object per line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_TraceFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kafka", "pymongo"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
