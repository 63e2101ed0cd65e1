"""Accounts (tenants) and their API keys in the gateway's MongoDB database.

Creating an account also records `AccountCreated` in the gateway's event store,
so that other services learn of new accounts through `accounts.events`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from pymongo.database import Database

from crm_platform.errors import NotFound

from gateway.domain.accounts import Account
from gateway.domain.api_keys import DEFAULT_SCOPES, OWNER_SCOPES, IssuedKey, issue_key, parse_key, secret_matches
from gateway.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Caller:
    account_id: str
    key_id: str
    scopes: frozenset = frozenset(DEFAULT_SCOPES)


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
        return account.id, self.issue_key(account.id, OWNER_SCOPES)

    def issue_key(self, account_id: str, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> IssuedKey:
        """A new API key of an existing account with these scopes (NotFound for an account that does not
        exist)."""
        if self._accounts.find_one({"_id": account_id}, {"_id": 1}) is None:
            raise NotFound(f"no account {account_id}")
        key = issue_key()
        self._keys.insert_one(
            {"_id": key.key_id, "account_id": account_id, "secret_hash": key.secret_hash, "scopes": list(scopes),
             "created_at": datetime.now(timezone.utc), "revoked": False}
        )
        return key

    def revoke_key(self, key_id: str) -> bool:
        """Stop a key from authenticating; False if there is no such live key."""
        revoked = self._keys.update_one({"_id": key_id, "revoked": False},
                                        {"$set": {"revoked": True, "revoked_at": datetime.now(timezone.utc)}})
        return revoked.modified_count == 1

    def list_keys(self, account_id: str) -> list[dict]:
        """The account's keys, oldest first: id, scopes, creation, revocation (never a secret or its hash)."""
        records = self._keys.find({"account_id": account_id}, {"secret_hash": 0})
        return [{"key_id": r["_id"], "scopes": r.get("scopes", list(DEFAULT_SCOPES)),
                 "created_at": r["created_at"].isoformat(), "revoked": bool(r.get("revoked"))}
                for r in sorted(records, key=lambda r: r["created_at"])]

    def authenticate(self, presented: str) -> Caller | None:
        """Who holds a presented key, or None for a malformed, unknown or revoked key."""
        parsed = parse_key(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        record = self._keys.find_one({"_id": key_id})
        if record is None or record.get("revoked") or not secret_matches(secret, record["secret_hash"]):
            return None
        return Caller(record["account_id"], key_id, frozenset(record.get("scopes", DEFAULT_SCOPES)))
