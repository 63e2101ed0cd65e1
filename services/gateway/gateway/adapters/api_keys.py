"""API keys in the gateway's MongoDB database (collection `api_keys`), as KeyRecords: never a secret, only its
SHA-256 (and for a rotated key, the previous secret's until its grace period ends)."""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.collection import Collection

from gateway.domain.api_keys import ADMIN, DEFAULT_SCOPES
from gateway.domain.key_records import LAST_USED_RESOLUTION, KeyRecord


class MongoApiKeys:
    def __init__(self, collection: Collection) -> None:
        self._keys = collection

    def ensure_indexes(self) -> None:
        self._keys.create_index([("account_id", ASCENDING), ("created_at", ASCENDING)], name="account_keys")

    def add(self, record: KeyRecord) -> None:
        self._keys.insert_one(_document(record))

    def get(self, key_id: str, account_id: str | None = None) -> KeyRecord | None:
        """The key with this id, if it is the account's (any account's when `account_id` is None)."""
        query = {"_id": key_id} if account_id is None else {"_id": key_id, "account_id": account_id}
        document = self._keys.find_one(query)
        return None if document is None else _record(document)

    def of_account(self, account_id: str) -> list[KeyRecord]:
        """The account's keys, oldest first (revoked and expired ones too)."""
        return sorted((_record(d) for d in self._keys.find({"account_id": account_id})), key=lambda r: r.created_at)

    def replace_secret(self, before: KeyRecord, after: KeyRecord) -> bool:
        """Store a rotation, unless the key was rotated or revoked meanwhile (False)."""
        changed = self._keys.update_one(
            {"_id": before.key_id, "secret_hash": before.secret_hash, "revoked": False},
            {"$set": {"secret_hash": after.secret_hash, "previous_secret_hash": after.previous_secret_hash,
                      "previous_secret_expires_at": after.previous_secret_expires_at}})
        return changed.modified_count == 1

    def revoke(self, key_id: str, now: datetime) -> bool:
        """Stop a key from authenticating; False if it was revoked already."""
        revoked = self._keys.update_one({"_id": key_id, "revoked": False},
                                        {"$set": {"revoked": True, "revoked_at": now}})
        return revoked.modified_count == 1

    def unrevoke(self, key_id: str, revoked_at: datetime) -> None:
        """Undo `revoke` (of the last admin key, found to be the last one after the fact)."""
        self._keys.update_one({"_id": key_id, "revoked_at": revoked_at},
                              {"$set": {"revoked": False}, "$unset": {"revoked_at": ""}})

    def note_use(self, record: KeyRecord, now: datetime) -> None:
        """Record that the key was used now, if the record is older than LAST_USED_RESOLUTION (one write a
        minute per key at most; of processes noting the same use, the condition keeps all but the first out)."""
        if not record.last_use_worth_recording(now):
            return
        self._keys.update_one(
            {"_id": record.key_id,
             "$or": [{"last_used_at": None}, {"last_used_at": {"$lte": now - LAST_USED_RESOLUTION}}]},
            {"$set": {"last_used_at": now}})

    def give_first_key_admin(self, account_id: str) -> bool:
        """Migration: the account's first key gets `admin`, if it is live and no key of the account has it."""
        records = self.of_account(account_id)
        if not records or any(ADMIN in record.scopes for record in records) or records[0].revoked_at is not None:
            return False
        first = records[0]
        self._keys.update_one({"_id": first.key_id}, {"$set": {"scopes": [*first.scopes, ADMIN]}})
        return True


def _document(record: KeyRecord) -> dict:
    return {"_id": record.key_id, "account_id": record.account_id, "secret_hash": record.secret_hash,
            "scopes": list(record.scopes), "created_at": record.created_at, "name": record.name,
            "expires_at": record.expires_at, "revoked": record.revoked_at is not None,
            **({"revoked_at": record.revoked_at} if record.revoked_at else {}),
            "last_used_at": record.last_used_at, "previous_secret_hash": record.previous_secret_hash,
            "previous_secret_expires_at": record.previous_secret_expires_at}


def _record(document: dict) -> KeyRecord:
    # Keys stored before scopes, names, expiry or rotation existed lack those fields: read, write, no name.
    revoked_at = document.get("revoked_at") or (document["created_at"] if document.get("revoked") else None)
    return KeyRecord(
        key_id=document["_id"], account_id=document["account_id"], secret_hash=document["secret_hash"],
        scopes=tuple(document.get("scopes", DEFAULT_SCOPES)), created_at=document["created_at"],
        name=document.get("name") or "", expires_at=document.get("expires_at"), revoked_at=revoked_at,
        last_used_at=document.get("last_used_at"), previous_secret_hash=document.get("previous_secret_hash"),
        previous_secret_expires_at=document.get("previous_secret_expires_at"))
