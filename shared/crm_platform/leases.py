"""Time-bound leases in MongoDB, so that one process at a time does a job (e.g. the outbox relay).

A lease is held term by term. Time is cut into terms of `ttl` (term n runs from n*ttl to (n+1)*ttl since
the epoch), and the holder of term n is whoever inserted the document `_id = "<name>:<n>"` first: an insert
of a given `_id` is exclusive on every server, where a compare-and-set of one document is not on FerretDB
1.24 (docs/local-infrastructure.md: two processes could both take over an expired lease). The holder claims
the next term once half of its time is left, so it keeps the lease while it keeps calling; a contender only
ever claims the term in progress, which a live holder claimed long before. A holder that stops calling loses
the lease at the end of the last term it claimed: at most `1.5 * ttl` after its last call.

The processes' clocks must agree to well within `ttl / 2` (NTP keeps them within milliseconds).
"""
from __future__ import annotations

import math
import socket
from datetime import datetime, timedelta, timezone
from typing import Callable

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.request_context import new_id


class Lease:
    """A named lease held by this process while it keeps renewing it within `ttl`."""

    def __init__(self, collection: Collection, name: str, ttl: timedelta = timedelta(seconds=15),
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._collection = collection
        self._name = name
        self._ttl = ttl
        self._clock = clock
        self.owner = f"{socket.gethostname()}:{new_id()}"
        self._held_term: int | None = None  # the last term this process claimed

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def acquire_or_renew(self) -> bool:
        """Take the lease if it is free, renew it if it is ours; False if another holds it."""
        now = self._clock()
        if self._held_term is not None and now < self._end(self._held_term) - self._ttl / 2:
            return True  # held, and far from the end: no write needed (renewing on every call costs a write)
        term = self._term(now)
        if self._held_term is None or now >= self._end(self._held_term):
            if not self._claim(term):  # the term in progress: free only if nobody renewed into it
                self._held_term = None
                return False
            self._held_term = term
        if now >= self._end(self._held_term) - self._ttl / 2 and self._claim(self._held_term + 1):
            self._held_term += 1
            self._forget_terms_before(term)
        return True

    def release(self) -> None:
        self._held_term = None
        self._collection.delete_many({"name": self._name, "owner": self.owner})

    def _claim(self, term: int) -> bool:
        """Whether this process holds the term, claiming it if nobody has."""
        try:
            self._collection.insert_one({"_id": f"{self._name}:{term}", "name": self._name, "term": term,
                                         "owner": self.owner, "expires_at": self._end(term)})
            return True
        except DuplicateKeyError:
            held = self._collection.find_one({"_id": f"{self._name}:{term}"}, {"owner": 1})
            return held is not None and held["owner"] == self.owner

    def _forget_terms_before(self, term: int) -> None:
        self._collection.delete_many({"name": self._name, "term": {"$lt": term}})

    def _term(self, moment: datetime) -> int:
        return math.floor(moment.timestamp() / self._ttl.total_seconds())

    def _end(self, term: int) -> datetime:
        return datetime.fromtimestamp((term + 1) * self._ttl.total_seconds(), timezone.utc)
