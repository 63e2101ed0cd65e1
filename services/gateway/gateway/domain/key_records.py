"""An API key as the gateway keeps it: the hash of its secret (and for a while after a rotation the previous
one's), its name and scopes, its life (expiry, revocation) and when it was last used. Pure rules."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from crm_platform.errors import Conflict, Forbidden

from gateway.domain.api_keys import ADMIN, IssuedKey, secret_matches

MAX_NAME_LENGTH = 100
# last_used_at is written when it is older than this: one write a minute per key at most, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
DEFAULT_ROTATION_GRACE = timedelta(hours=24)  # how long a rotated key's previous secret keeps working
MAX_ROTATION_GRACE = timedelta(days=7)


class LastAdminKey(Conflict):
    """Revoking this key would leave the account without a live `admin` key: nobody could manage its keys."""

    title = "Last admin key"
    slug = "last-admin-key"


class KeyNotLive(Conflict):
    """The key is revoked or expired: there is nothing to rotate."""

    title = "API key not live"
    slug = "api-key-not-live"


class ScopesNotHeld(Forbidden):
    """A key may only give (to a new key, or by rotating one) scopes that it has itself; `missing_scopes`."""

    title = "Scopes not held"
    slug = "scopes-not-held"


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    account_id: str
    secret_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    name: str = ""
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    previous_secret_hash: str | None = None
    previous_secret_expires_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def is_live_admin(self, now: datetime) -> bool:
        return ADMIN in self.scopes and self.live(now)

    def accepts(self, secret: str, now: datetime) -> bool:
        """Whether this secret authenticates now: the current one, or the previous one within its grace period."""
        if not self.live(now):
            return False
        if secret_matches(secret, self.secret_hash):
            return True
        return (self.previous_secret_hash is not None and self.previous_secret_expires_at is not None
                and now < self.previous_secret_expires_at and secret_matches(secret, self.previous_secret_hash))

    def last_use_worth_recording(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION

    def rotated(self, fresh: IssuedKey, now: datetime, grace: timedelta) -> "KeyRecord":
        """The key with the fresh secret; the current one keeps working for `grace` (an older previous one stops)."""
        if not self.live(now):
            raise KeyNotLive(f"API key {self.key_id} is revoked or expired: it cannot be rotated")
        if not timedelta(0) <= grace <= MAX_ROTATION_GRACE:
            raise ValueError(f"a grace period is between 0 and {MAX_ROTATION_GRACE}, not {grace}")
        return replace(self, secret_hash=fresh.secret_hash, previous_secret_hash=self.secret_hash,
                       previous_secret_expires_at=now + grace)


def check_grant(held: frozenset[str], wanted: tuple[str, ...]) -> None:
    """ScopesNotHeld unless every scope `wanted` is one the caller's key `held` (no key makes a mightier one)."""
    missing = [scope for scope in wanted if scope not in held]
    if missing:
        raise ScopesNotHeld(f"this API key cannot give scopes it does not have: {', '.join(missing)}",
                            missing_scopes=missing)


def name_problem(name: str) -> str | None:
    """Why this cannot name a key (blank, too long, a control character such as a line feed), or None."""
    if not name.strip():
        return "must not be blank"
    if len(name) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters"
    control = next((char for char in name if unicodedata.category(char) == "Cc"), None)
    if control is not None:
        return f"contains the control character U+{ord(control):04X}"
    return None


def expiry_problem(expires_at: datetime, now: datetime) -> str | None:
    """Why a key cannot expire then (no UTC offset given, or not in the future), or None."""
    if expires_at.tzinfo is None or expires_at.utcoffset() is None:
        return "must be a date-time with a UTC offset (2027-01-31T18:00:00+01:00)"
    try:
        expires_at.astimezone(timezone.utc)  # as it is stored
    except OverflowError:  # 9999-12-31T23:00:00-02:00 is in year 10000 in UTC
        return "must be before 9999-12-31T23:59:59Z"
    if expires_at <= now:
        return "must be in the future"
    return None
