"""Creating, rotating, revoking and recognising API keys (service layer on an in-memory store)."""
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.errors import NotFound

from gateway.domain.key_records import (KeyNotLive, LastAdminKey, ScopesNotHeld, expiry_problem, name_problem)
from gateway.service_layer.api_keys import CreateKey, create_key, recognise, revoke_key, rotate_key
from gateway.testing.api_keys_contract import ApiKeysContract
from gateway.testing.in_memory_api_keys import InMemoryApiKeys

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
EVERYTHING = frozenset({"read", "write", "privacy", "admin"})


def made(keys, scopes=("read", "write", "privacy", "admin"), account="acct-1", at=T0, **more):
    return create_key(keys, CreateKey(account, "k", scopes, **more), at)


def test_a_created_key_is_recognised_with_exactly_its_scopes_and_its_secret_is_not_stored():
    keys = InMemoryApiKeys()
    record, issued = made(keys, ("read",))
    assert recognise(keys, issued.plaintext, T0).scopes == ("read",)
    assert issued.plaintext.split("_")[-1] not in repr(keys.records)


def test_a_key_cannot_give_a_scope_the_callers_key_lacks():
    keys = InMemoryApiKeys()
    with pytest.raises(ScopesNotHeld) as refused:
        made(keys, ("read", "privacy"), granted_by=frozenset({"read", "write", "admin"}))
    assert refused.value.extra["missing_scopes"] == ["privacy"] and keys.records == {}


def test_an_expired_key_is_refused_like_an_unknown_one():
    keys = InMemoryApiKeys()
    _, issued = made(keys, expires_at=T0 + timedelta(hours=1))
    assert recognise(keys, issued.plaintext, T0 + timedelta(minutes=59)) is not None
    assert recognise(keys, issued.plaintext, T0 + timedelta(hours=1)) is None


def test_a_rotated_keys_old_secret_works_during_the_grace_period_only_and_the_new_one_at_once():
    keys = InMemoryApiKeys()
    record, old = made(keys)
    _, new = rotate_key(keys, record.key_id, timedelta(hours=2), T0)
    assert new.key_id == record.key_id and new.plaintext != old.plaintext
    assert recognise(keys, new.plaintext, T0) and recognise(keys, old.plaintext, T0 + timedelta(minutes=119))
    assert recognise(keys, old.plaintext, T0 + timedelta(hours=2)) is None
    assert recognise(keys, new.plaintext, T0 + timedelta(days=30)) is not None


def test_rotating_again_ends_the_grace_of_the_secret_before_the_previous_one():
    keys = InMemoryApiKeys()
    record, first = made(keys)
    _, second = rotate_key(keys, record.key_id, timedelta(hours=2), T0)
    _, third = rotate_key(keys, record.key_id, timedelta(hours=2), T0 + timedelta(minutes=1))
    at = T0 + timedelta(minutes=2)
    assert recognise(keys, first.plaintext, at) is None
    assert recognise(keys, second.plaintext, at) and recognise(keys, third.plaintext, at)


def test_a_key_cannot_rotate_a_mightier_key_nor_a_revoked_one():
    keys = InMemoryApiKeys()
    owner, _ = made(keys)
    helper, _ = made(keys, ("read", "admin"))
    with pytest.raises(ScopesNotHeld):
        rotate_key(keys, owner.key_id, timedelta(0), T0, granted_by=frozenset({"read", "admin"}))
    revoke_key(keys, helper.key_id, T0)
    with pytest.raises(KeyNotLive):
        rotate_key(keys, helper.key_id, timedelta(0), T0)


def test_a_revoked_key_is_refused_at_once_and_revoking_again_changes_nothing():
    keys = InMemoryApiKeys()
    made(keys)
    record, issued = made(keys, ("read",))
    assert revoke_key(keys, record.key_id, T0).revoked_at == T0
    assert recognise(keys, issued.plaintext, T0) is None
    assert revoke_key(keys, record.key_id, T0 + timedelta(hours=1)).revoked_at == T0


def test_the_last_live_admin_key_cannot_be_revoked_but_one_of_two_can():
    keys = InMemoryApiKeys()
    first, _ = made(keys)
    second, _ = made(keys, ("read", "admin"), at=T0 + timedelta(seconds=1))
    revoke_key(keys, first.key_id, T0)
    with pytest.raises(LastAdminKey):
        revoke_key(keys, second.key_id, T0)
    assert keys.records[second.key_id].revoked_at is None


def test_an_expired_admin_key_does_not_count_as_another_admin():
    keys = InMemoryApiKeys()
    first, _ = made(keys)
    made(keys, ("admin",), expires_at=T0 + timedelta(minutes=5))
    with pytest.raises(LastAdminKey):
        revoke_key(keys, first.key_id, T0 + timedelta(minutes=5))


def test_a_revocation_that_raced_another_is_taken_back_if_it_left_no_admin_key():
    class Racing(InMemoryApiKeys):
        """The other admin key is revoked between the check and this revocation's write (another request)."""
        other = None

        def revoke(self, key_id, now):
            if self.other is not None and self.records[self.other].revoked_at is None:
                super().revoke(self.other, now)
            return super().revoke(key_id, now)

    keys = Racing()
    first, _ = made(keys)
    second, _ = made(keys, at=T0 + timedelta(seconds=1))
    keys.other = second.key_id
    with pytest.raises(LastAdminKey):
        revoke_key(keys, first.key_id, T0)
    assert keys.records[first.key_id].revoked_at is None


def test_another_accounts_key_is_not_found():
    keys = InMemoryApiKeys()
    record, _ = made(keys, account="acct-2")
    with pytest.raises(NotFound):
        revoke_key(keys, record.key_id, T0, account_id="acct-1")
    with pytest.raises(NotFound):
        rotate_key(keys, record.key_id, timedelta(0), T0, account_id="acct-1")


def test_last_use_is_written_at_most_once_a_minute_per_key():
    keys = InMemoryApiKeys()
    _, issued = made(keys)
    for second in range(0, 180, 5):  # three minutes of a request every 5 seconds
        recognise(keys, issued.plaintext, T0 + timedelta(seconds=second))
    assert keys.use_writes == 3
    assert keys.records[issued.key_id].last_used_at == T0 + timedelta(minutes=2)


def test_a_name_is_1_to_100_characters_without_control_characters():
    assert name_problem("nightly sync") is None and name_problem("é" * 100) is None
    for bad in ("", "   ", "x" * 101, "a\tb", "a\nb", "a\x7fb", "a\x85b"):
        assert name_problem(bad) is not None, bad


def test_an_expiry_is_a_future_date_time_with_an_offset():
    assert expiry_problem(T0 + timedelta(seconds=1), T0) is None
    assert "future" in expiry_problem(T0, T0)
    assert "offset" in expiry_problem(datetime(2027, 1, 1), T0)
    assert "9999" in expiry_problem(datetime.fromisoformat("9999-12-31T23:00:00-02:00"), T0)


class TestInMemoryApiKeys(ApiKeysContract):
    @pytest.fixture
    def keys(self):
        return InMemoryApiKeys()
