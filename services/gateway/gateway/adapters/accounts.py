"""Accounts (tenants) and their API keys in the gateway's MongoDB database.

Creating an account also records `AccountCreated` in the gateway's event store,
so that other services learn of new accounts through `accounts.events`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from pymongo.database import Database

from crm_platform.errors import NotFound

from gateway.adapters.api_keys import MongoApiKeys
from gateway.domain.accounts import Account
from gateway.domain.api_keys import DEFAULT_SCOPES, OWNER_SCOPES, IssuedKey
from gateway.domain.key_records import KeyRecord
from gateway.service_layer import api_keys
from gateway.service_layer.unit_of_work import UnitOfWork

# Done once per database: the marker's _id in the `migrations` collection.
FIRST_KEYS_GET_ADMIN = "first-keys-get-admin-scope"


def utc_now() -> datetime:
    """Now, to the millisecond: what BSON keeps, so that a time returned is the time stored."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Caller:
    account_id: str
    key_id: str
    scopes: frozenset = frozenset(DEFAULT_SCOPES)


class AccountDirectory:
    def __init__(self, db: Database, uow: UnitOfWork, clock: Callable[[], datetime] = utc_now) -> None:
        self._accounts = db["accounts"]
        self._migrations = db["migrations"]
        self.keys = MongoApiKeys(db["api_keys"])
        self._uow = uow
        self.clock = clock

    def ensure_indexes(self) -> None:
        """The keys' index, and once per database the migration that gives accounts' first keys `admin`."""
        self.keys.ensure_indexes()
        if self._migrations.find_one({"_id": FIRST_KEYS_GET_ADMIN}) is None:
            # Idempotent: two processes starting at once both run it, to the same result.
            for account in self._accounts.find({}, {"_id": 1}):
                self.keys.give_first_key_admin(account["_id"])
            self._migrations.update_one({"_id": FIRST_KEYS_GET_ADMIN}, {"$set": {"done_at": self.clock()}},
                                        upsert=True)

    def create_account(self, name: str) -> tuple[str, IssuedKey]:
        """A new account and its first API key (every scope: its owner's)."""
        account = Account.open(name)
        with self._uow as uow:
            uow.accounts.add(account)
            uow.commit()
        self._accounts.insert_one({"_id": account.id, "name": name, "created_at": self.clock()})
        return account.id, self.issue_key(account.id, OWNER_SCOPES, name="owner")

    def issue_key(self, account_id: str, scopes: tuple[str, ...] = DEFAULT_SCOPES, name: str = "",
                  expires_at: datetime | None = None, granted_by: frozenset[str] | None = None) -> IssuedKey:
        """A new API key of an existing account with these scopes (NotFound for an account that does not exist)."""
        return self.create_key(account_id, name, scopes, expires_at, granted_by)[1]

    def create_key(self, account_id: str, name: str, scopes: tuple[str, ...], expires_at: datetime | None = None,
                   granted_by: frozenset[str] | None = None) -> tuple[KeyRecord, IssuedKey]:
        if self._accounts.find_one({"_id": account_id}, {"_id": 1}) is None:
            raise NotFound(f"no account {account_id}")
        command = api_keys.CreateKey(account_id, name, tuple(scopes), expires_at, granted_by)
        return api_keys.create_key(self.keys, command, self.clock())

    def rotate_key(self, key_id: str, grace: timedelta, account_id: str | None = None,
                   granted_by: frozenset[str] | None = None) -> tuple[KeyRecord, IssuedKey]:
        return api_keys.rotate_key(self.keys, key_id, grace, self.clock(), account_id, granted_by)

    def revoke_key(self, key_id: str, account_id: str | None = None) -> KeyRecord:
        """Stop a key from authenticating, at once (NotFound, LastAdminKey)."""
        return api_keys.revoke_key(self.keys, key_id, self.clock(), account_id)

    def get_key(self, key_id: str, account_id: str) -> KeyRecord:
        record = self.keys.get(key_id, account_id)
        if record is None:
            raise NotFound(f"no API key {key_id}")
        return record

    def list_keys(self, account_id: str) -> list[KeyRecord]:
        """The account's keys, oldest first (never a secret: records hold hashes, and are shown without them)."""
        return self.keys.of_account(account_id)

    def authenticate(self, presented: str) -> Caller | None:
        """Who holds a presented key, or None for a malformed, unknown, revoked or expired key."""
        record = api_keys.recognise(self.keys, presented, self.clock())
        return None if record is None else Caller(record.account_id, record.key_id, frozenset(record.scopes))
