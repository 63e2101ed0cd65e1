"""Accounts (tenants) and their API keys in the gateway's MongoDB database.

Creating an account also records `AccountCreated` in the gateway's event store,
so that other services learn of new accounts through `accounts.events`.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from pymongo.database import Database

from crm_platform.envelope import new_envelope
from crm_platform.event_store import MongoEventStore

from gateway.domain.api_keys import IssuedKey, issue_key, parse_key, secret_matches


@dataclass(frozen=True)
class Caller:
    account_id: str
    key_id: str


class AccountDirectory:
    def __init__(self, db: Database, event_store: MongoEventStore) -> None:
        self._accounts = db["accounts"]
        self._keys = db["api_keys"]
        self._events = event_store

    def create_account(self, name: str) -> tuple[str, IssuedKey]:
        """A new account and its first API key."""
        account_id = str(uuid.uuid4())
        now = datetime.now(timezone.utc)
        self._events.append(
            [
                new_envelope(
                    event_type="AccountCreated",
                    aggregate_type="Account",
                    aggregate_id=account_id,
                    aggregate_version=1,
                    account_id=account_id,
                    payload={"account_id": account_id, "name": name},
                )
            ]
        )
        self._accounts.insert_one({"_id": account_id, "name": name, "created_at": now})
        return account_id, self.issue_key(account_id)

    def issue_key(self, account_id: str) -> IssuedKey:
        key = issue_key()
        self._keys.insert_one(
            {"_id": key.key_id, "account_id": account_id, "secret_hash": key.secret_hash,
             "created_at": datetime.now(timezone.utc), "revoked": False}
        )
        return key

    def authenticate(self, presented: str) -> Caller | None:
        """Who holds a presented key, or None for a malformed, unknown or revoked key."""
        parsed = parse_key(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        record = self._keys.find_one({"_id": key_id})
        if record is None or record.get("revoked") or not secret_matches(secret, record["secret_hash"]):
            return None
        return Caller(record["account_id"], key_id)
