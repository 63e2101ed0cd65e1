"""The worker's sweeps of documents that carry their own expiry (idempotency records, rate-limit tickets).

No TTL index (FerretDB has none): a sweep deletes what expired with one statement by an expiry range. FerretDB
serves no range from an index, so any statement on `expires_at` reads the whole collection: one per sweep,
where finding ids a batch at a time and deleting them by `$in` read it twice per batch. The documents expired
since the last sweep are few (a minute of tickets, an hour of records). A backlog after a long stop is one
longer statement; one longer than MONGO_SOCKET_TIMEOUT_MS fails, and the loop tries again at the next round.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

from crm_platform.worker_runtime import Loop, every


class Expiring(Protocol):
    def delete_expired(self, now: datetime) -> int:
        """Delete everything expired at `now`, in one statement; how many were deleted."""


def sweep_loop(store: Expiring, every_s: float, what: str) -> Loop:
    """The worker's loop: delete what expired in `store` at start, then every `every_s`, until stopped."""
    return every(every_s, lambda: store.delete_expired(datetime.now(timezone.utc)), f"deleting expired {what}")
