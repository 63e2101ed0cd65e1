"""IdentityClaims in dicts, for unit tests; the identity claims contract keeps it honest."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from crm_platform.identity_claims import Claim, IdentityClaims


class InMemoryIdentityClaims(IdentityClaims):
    """A fake for unit tests; tests may read (and age) `owners` and `claimed_at`."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.claimed_at: dict[str, datetime] = {}
        self._lock = threading.Lock()  # claims race in tests of concurrent writers, as on the server

    def claim(self, identity: str, owner: str) -> Claim | None:
        with self._lock:
            if identity not in self.owners:
                self.owners[identity], self.claimed_at[identity] = owner, _now()
                return None
            held = self.owners[identity]
            return None if held == owner else Claim(held, self.claimed_at[identity])

    def holder(self, identity: str) -> Claim | None:
        with self._lock:
            return Claim(self.owners[identity], self.claimed_at[identity]) if identity in self.owners else None

    def take_over(self, identity: str, stale_owner: str, owner: str) -> bool:
        with self._lock:
            if self.owners.get(identity) != stale_owner:
                return False
            self.owners[identity], self.claimed_at[identity] = owner, _now()
            return True

    def release(self, identity: str, owner: str) -> None:
        with self._lock:
            if self.owners.get(identity) == owner:
                del self.owners[identity], self.claimed_at[identity]

    def release_all(self, owner: str) -> int:
        with self._lock:
            held = [identity for identity, holder in self.owners.items() if holder == owner]
            for identity in held:
                del self.owners[identity], self.claimed_at[identity]
            return len(held)


def _now() -> datetime:
    return datetime.now(timezone.utc)
