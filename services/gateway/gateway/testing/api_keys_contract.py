"""The contract every store of API keys keeps; run against the fake (testing/in_memory_api_keys.py) AND the
MongoDB adapter (adapters/api_keys.py), so that the service layer's unit tests on the fake say what the real
store does.

Subclass `ApiKeysContract` and provide a `keys` fixture.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gateway.domain.api_keys import ADMIN, issue_key, new_secret
from gateway.domain.key_records import KeyRecord

# MongoDB keeps milliseconds: whole milliseconds read back equal.
NOW = datetime(2026, 12, 1, 9, 0, 0, 250000, tzinfo=timezone.utc)


def record(account_id: str = "acct-1", created_at: datetime = NOW, scopes=("read",), **fields) -> KeyRecord:
    issued = issue_key()
    return KeyRecord(issued.key_id, account_id, issued.secret_hash, tuple(scopes), created_at, **fields)


class ApiKeysContract:
    def test_a_key_is_read_back_whole_and_only_in_its_account(self, keys):
        stored = record(name="sync", expires_at=NOW + timedelta(days=30), scopes=("read", ADMIN))
        keys.add(stored)
        assert keys.get(stored.key_id) == stored
        assert keys.get(stored.key_id, "acct-1") == stored
        assert keys.get(stored.key_id, "acct-2") is None  # another account's key is as unknown as none
        assert keys.get("000000000000") is None

    def test_an_accounts_keys_come_oldest_first_and_no_other_accounts(self, keys):
        later, earlier = record(created_at=NOW + timedelta(minutes=1)), record()
        keys.add(later)
        keys.add(earlier)
        keys.add(record(account_id="acct-2"))
        assert [each.key_id for each in keys.of_account("acct-1")] == [earlier.key_id, later.key_id]
        assert keys.of_account("acct-3") == []

    def test_a_rotation_is_stored_only_over_the_secret_it_was_made_from(self, keys):
        stored = record()
        keys.add(stored)
        rotated = stored.rotated(new_secret(stored.key_id), NOW, timedelta(hours=1))
        assert keys.replace_secret(stored, rotated) is True
        assert keys.get(stored.key_id) == rotated
        again = stored.rotated(new_secret(stored.key_id), NOW, timedelta(hours=1))
        assert keys.replace_secret(stored, again) is False  # made from the secret replaced meanwhile
        assert keys.get(stored.key_id) == rotated

    def test_a_revoked_key_is_not_rotated_and_is_revoked_once(self, keys):
        stored = record()
        keys.add(stored)
        assert keys.revoke(stored.key_id, NOW) is True
        assert keys.revoke(stored.key_id, NOW + timedelta(seconds=1)) is False
        assert keys.get(stored.key_id).revoked_at == NOW
        rotated = stored.rotated(new_secret(stored.key_id), NOW, timedelta(hours=1))
        assert keys.replace_secret(stored, rotated) is False

    def test_unrevoke_takes_back_only_the_revocation_it_names(self, keys):
        stored = record()
        keys.add(stored)
        keys.revoke(stored.key_id, NOW)
        keys.unrevoke(stored.key_id, NOW + timedelta(seconds=1))
        assert keys.get(stored.key_id).revoked_at == NOW
        keys.unrevoke(stored.key_id, NOW)
        assert keys.get(stored.key_id).revoked_at is None
        assert keys.revoke(stored.key_id, NOW + timedelta(seconds=2)) is True

    def test_a_use_is_noted_at_most_once_a_minute(self, keys):
        stored = record()
        keys.add(stored)
        keys.note_use(stored, NOW)
        assert keys.get(stored.key_id).last_used_at == NOW
        keys.note_use(keys.get(stored.key_id), NOW + timedelta(seconds=30))
        assert keys.get(stored.key_id).last_used_at == NOW
        keys.note_use(keys.get(stored.key_id), NOW + timedelta(minutes=1))
        assert keys.get(stored.key_id).last_used_at == NOW + timedelta(minutes=1)
