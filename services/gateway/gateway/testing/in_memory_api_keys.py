"""API keys in a dict, for unit tests of the service layer; the same answers as adapters.api_keys.MongoApiKeys."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from gateway.domain.key_records import KeyRecord


class InMemoryApiKeys:
    def __init__(self) -> None:
        self.records: dict[str, KeyRecord] = {}
        self.use_writes = 0  # how many times last_used_at was written

    def add(self, record: KeyRecord) -> None:
        assert record.key_id not in self.records
        self.records[record.key_id] = record

    def get(self, key_id: str, account_id: str | None = None) -> KeyRecord | None:
        record = self.records.get(key_id)
        return record if record is not None and account_id in (None, record.account_id) else None

    def of_account(self, account_id: str) -> list[KeyRecord]:
        return sorted((r for r in self.records.values() if r.account_id == account_id), key=lambda r: r.created_at)

    def replace_secret(self, before: KeyRecord, after: KeyRecord) -> bool:
        held = self.records[before.key_id]
        if held.secret_hash != before.secret_hash or held.revoked_at is not None:
            return False
        self.records[before.key_id] = replace(held, secret_hash=after.secret_hash,
                                              previous_secret_hash=after.previous_secret_hash,
                                              previous_secret_expires_at=after.previous_secret_expires_at)
        return True

    def revoke(self, key_id: str, now: datetime) -> bool:
        if self.records[key_id].revoked_at is not None:
            return False
        self.records[key_id] = replace(self.records[key_id], revoked_at=now)
        return True

    def unrevoke(self, key_id: str, revoked_at: datetime) -> None:
        if self.records[key_id].revoked_at == revoked_at:
            self.records[key_id] = replace(self.records[key_id], revoked_at=None)

    def note_use(self, record: KeyRecord, now: datetime) -> None:
        if self.records[record.key_id].last_use_worth_recording(now):
            self.records[record.key_id] = replace(self.records[record.key_id], last_used_at=now)
            self.use_writes += 1
