"""Time-bound leases in MongoDB, so that one process at a time does a job (e.g. the outbox relay)."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.request_context import new_id


class Lease:
    """A named lease held by this process while it keeps renewing it within `ttl`."""

    def __init__(self, collection: Collection, name: str, ttl: timedelta = timedelta(seconds=15)) -> None:
        self._collection = collection
        self._name = name
        self._ttl = ttl
        self.owner = f"{socket.gethostname()}:{new_id()}"
        self._held_until: datetime | None = None

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def acquire_or_renew(self) -> bool:
        """Take the lease if it is free or expired, renew it if it is ours; False if another holds it."""
        now = datetime.now(timezone.utc)
        if self._held_until is not None and now < self._held_until - self._ttl / 2:
            return True  # held, and far from expiry: no write needed (renewing on every call costs a write)
        try:
            self._collection.find_one_and_update(
                {"_id": self._name, "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + self._ttl}},
                upsert=True,
            )
            self._held_until = now + self._ttl
            return True
        except DuplicateKeyError:  # the document exists and is held by someone else
            self._held_until = None
            return False

    def release(self) -> None:
        self._held_until = None
        self._collection.delete_one({"_id": self._name, "owner": self.owner})
