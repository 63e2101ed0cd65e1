"""Accounts (tenants) and their API keys in the gateway's MongoDB database.

Creating an account also records `AccountCreated` in the gateway's event store,
so that other services learn of new accounts through `accounts.events`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from pymongo.database import Database

from gateway.domain.accounts import Account
from gateway.domain.api_keys import IssuedKey, issue_key, parse_key, secret_matches
from gateway.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Caller:
    account_id: str
    key_id: str


class AccountDirectory:
    def __init__(self, db: Database, uow: UnitOfWork) -> None:
        self._accounts = db["accounts"]
        self._keys = db["api_keys"]
        self._uow = uow

    def create_account(self, name: str) -> tuple[str, IssuedKey]:
        """A new account and its first API key."""
        account = Account.open(name)
        with self._uow as uow:
            uow.accounts.add(account)
            uow.commit()
        self._accounts.insert_one({"_id": account.id, "name": name, "created_at": datetime.now(timezone.utc)})
        return account.id, self.issue_key(account.id)

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
