"""Where the gateway counts requests per window, shared by every replica: as numbered tickets, one document each.

The n-th ticket taken in a window is a document whose `_id` is the window's counter and n (a ticket admits
one request, or a run of them once the quota is large: service_layer/rate_limiting.py). Taking one is an
insert, which the primary key makes atomic on MongoDB and FerretDB alike. A counter kept as one number would
be simpler, but FerretDB 1.24 loses concurrent updates of one document (an `$inc` or a compare-and-set from 8
threads kept 44 to 59 of 200 increments, measured): a burst sent in parallel would pass uncounted. Reads
and inserts are by `_id` only (FerretDB serves `_id` equality from an index and scans for anything else). No
TTL index either: a ticket carries `expires_at`, and the gateway worker deletes expired ones, one statement a
sweep (`service_layer/expiry_sweep.py`).
"""
from __future__ import annotations

import abc
from datetime import datetime

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from crm_platform.mongo import MongoConnection


class CountersUnavailable(Exception):
    """The counters could not be read or written (database unreachable, slow or refusing)."""


class RateLimitCounters(abc.ABC):
    @abc.abstractmethod
    def take(self, counter_id: str, number: int, expires_at: datetime) -> bool:
        """Take ticket `number` of a counter, to expire at `expires_at`; False if it was taken already."""

    @abc.abstractmethod
    def taken(self, counter_id: str, number: int) -> bool:
        """Whether ticket `number` of a counter is taken."""

    @abc.abstractmethod
    def delete_expired(self, now: datetime) -> int:
        """Delete every ticket expired at `now` in one statement (service_layer/expiry_sweep.py); how many."""


def ticket_id(counter_id: str, number: int) -> str:
    return f"{counter_id}#{number}"


class MongoRateLimitCounters(RateLimitCounters):
    """Tickets in a collection reached through `connection` (the API's: a client of its own, short timeouts)."""

    COLLECTION = "rate_limit_tickets"

    def __init__(self, connection: MongoConnection, database: str) -> None:
        self._connection = connection  # the collection is looked up per call: a client is made per process
        self._database = database

    @property
    def _tickets(self) -> Collection:
        return self._connection.database(self._database)[self.COLLECTION]

    def ensure_indexes(self) -> None:
        self._tickets.create_index([("expires_at", ASCENDING)], name="expires_at")  # the sweep; not a TTL index

    def take(self, counter_id: str, number: int, expires_at: datetime) -> bool:
        try:
            self._tickets.insert_one({"_id": ticket_id(counter_id, number), "expires_at": expires_at})
            return True
        except DuplicateKeyError:
            return False
        except PyMongoError as exc:
            raise CountersUnavailable(type(exc).__name__) from None

    def taken(self, counter_id: str, number: int) -> bool:
        try:
            return self._tickets.find_one({"_id": ticket_id(counter_id, number)}, {"_id": 1}) is not None
        except PyMongoError as exc:
            raise CountersUnavailable(type(exc).__name__) from None

    def delete_expired(self, now: datetime) -> int:
        return self._tickets.delete_many({"expires_at": {"$lte": now}}).deleted_count
