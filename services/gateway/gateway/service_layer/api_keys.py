"""Managing an account's API keys: create, rotate, revoke, and recognising a presented key.

The store is the adapter's MongoApiKeys (or a fake); `now` is given, so tests move the clock.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from crm_platform.errors import NotFound

from gateway.domain.api_keys import IssuedKey, issue_key, new_secret, parse_key
from gateway.domain.key_records import KeyRecord, LastAdminKey, check_grant


@dataclass(frozen=True)
class CreateKey:
    account_id: str
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime | None = None
    granted_by: frozenset[str] | None = None  # the scopes of the caller's key; None: an operator (CLI)


def create_key(keys, command: CreateKey, now: datetime) -> tuple[KeyRecord, IssuedKey]:
    """A new key of the account: its record, and its secret to show once."""
    if command.granted_by is not None:
        check_grant(command.granted_by, command.scopes)
    issued = issue_key()
    record = KeyRecord(issued.key_id, command.account_id, issued.secret_hash, tuple(dict.fromkeys(command.scopes)),
                       now, name=command.name, expires_at=command.expires_at)
    keys.add(record)
    return record, issued


def rotate_key(keys, key_id: str, grace: timedelta, now: datetime, account_id: str | None = None,
               granted_by: frozenset[str] | None = None) -> tuple[KeyRecord, IssuedKey]:
    """A new secret for the key; the current one keeps working for `grace`. A caller's key may only rotate a key
    whose scopes it has (else it would get the secret of a mightier key)."""
    record = _existing(keys, key_id, account_id)
    if granted_by is not None:
        check_grant(granted_by, record.scopes)
    fresh = new_secret(key_id)
    rotated = record.rotated(fresh, now, grace)
    if not keys.replace_secret(record, rotated):  # rotated or revoked meanwhile: judge the key as it is now
        return rotate_key(keys, key_id, grace, now, account_id, granted_by)
    return rotated, fresh


def revoke_key(keys, key_id: str, now: datetime, account_id: str | None = None) -> KeyRecord:
    """Refuse the key from now on (again: no change). LastAdminKey rather than leave the account without a live
    `admin` key."""
    record = _existing(keys, key_id, account_id)
    if record.revoked_at is not None:
        return record
    if record.is_live_admin(now) and not _other_admins(keys, record, now):
        raise _last_admin_key(key_id)
    if not keys.revoke(key_id, now):
        return _existing(keys, key_id, account_id)
    # Two admin keys revoked at once both passed the check above: looking again after the write, at least one
    # of them sees that none is left and takes its revocation back (no multi-document transaction for this).
    if record.is_live_admin(now) and not _other_admins(keys, record, now):
        keys.unrevoke(key_id, now)
        raise _last_admin_key(key_id)
    return replace(record, revoked_at=now)


def recognise(keys, presented: str, now: datetime) -> KeyRecord | None:
    """The live key a client presented, or None (malformed, unknown, revoked, expired, or a previous secret past
    its grace period); its use is noted at most once a minute."""
    parsed = parse_key(presented)
    if parsed is None:
        return None
    key_id, secret = parsed
    record = keys.get(key_id)
    if record is None or not record.accepts(secret, now):
        return None
    keys.note_use(record, now)
    return record


def _existing(keys, key_id: str, account_id: str | None) -> KeyRecord:
    record = keys.get(key_id, account_id)
    if record is None:  # another account's key is as unknown as a key that never was
        raise NotFound(f"no API key {key_id}")
    return record


def _other_admins(keys, record: KeyRecord, now: datetime) -> bool:
    return any(other.is_live_admin(now) for other in keys.of_account(record.account_id)
               if other.key_id != record.key_id)


def _last_admin_key(key_id: str) -> LastAdminKey:
    return LastAdminKey(f"API key {key_id} is the account's last live key with the `admin` scope: give another key "
                        "`admin` first", key_id=key_id)
