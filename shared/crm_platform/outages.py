"""Telling an outage (wait it out, lose nothing) from an error of the work itself (report it, move on)."""
from __future__ import annotations

from kafka.errors import KafkaError
from pymongo.errors import PyMongoError

from crm_platform.errors import DependencyUnavailable
from crm_platform.mongo import is_outage


def is_transient(exc: BaseException) -> bool:
    """An outage of the database or broker, to wait out; any other error is the event's or item's (bad data, a bug)."""
    if isinstance(exc, (DependencyUnavailable, KafkaError)):
        return True
    return isinstance(exc, PyMongoError) and is_outage(exc)
