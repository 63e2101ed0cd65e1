"""The contract every IdentityClaims keeps; run against the fake AND the MongoDB adapter.

Subclass `IdentityClaimsContract` and provide a `claims` fixture.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

# MongoDB keeps milliseconds: a stored time may read back up to 1 ms before the moment it was taken.
PRECISION = timedelta(milliseconds=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class IdentityClaimsContract:
    def test_the_first_claimer_owns_the_identity_and_others_are_told_who(self, claims):
        before = _now()
        assert claims.claim("acct-1|email|a@x.fr", "c-1") is None
        held = claims.claim("acct-1|email|a@x.fr", "c-2")
        assert held.owner == "c-1" and before - PRECISION <= held.claimed_at <= _now()
        assert claims.claim("acct-1|email|a@x.fr", "c-1") is None  # claiming again what is ours is fine
        assert claims.holder("acct-1|email|a@x.fr").owner == "c-1"
        assert claims.holder("acct-1|email|b@x.fr") is None

    def test_only_the_owner_releases_a_claim(self, claims):
        claims.claim("id-1", "c-1")
        claims.release("id-1", "c-2")
        assert claims.holder("id-1").owner == "c-1"
        claims.release("id-1", "c-1")
        assert claims.holder("id-1") is None
        claims.release("id-1", "c-1")  # releasing what is free is harmless

    def test_a_released_identity_is_claimed_anew_with_a_fresh_time(self, claims):
        claims.claim("id-1", "c-1")
        first = claims.holder("id-1").claimed_at
        claims.release("id-1", "c-1")
        later = _now()
        assert claims.claim("id-1", "c-2") is None
        again = claims.holder("id-1")
        assert again.owner == "c-2" and again.claimed_at >= max(first, later - PRECISION)

    def test_releasing_all_of_an_owner_drops_its_claims_and_no_other(self, claims):
        claims.claim("acct-1|email|a@x.fr", "c-erased")
        claims.claim("acct-1|phone|+33612345678", "c-erased")
        claims.claim("acct-1|email|b@x.fr", "c-2")
        assert claims.release_all("c-erased") == 2
        assert claims.holder("acct-1|email|a@x.fr") is None and claims.holder("acct-1|phone|+33612345678") is None
        assert claims.holder("acct-1|email|b@x.fr").owner == "c-2"
        assert claims.release_all("c-erased") == 0

    def test_a_stale_claim_is_taken_over_once(self, claims):
        claims.claim("id-1", "c-dead")
        assert claims.take_over("id-1", "c-dead", "c-2") is True
        assert claims.holder("id-1").owner == "c-2"
        assert claims.take_over("id-1", "c-dead", "c-3") is False  # someone moved it first
        assert claims.holder("id-1").owner == "c-2"
        assert claims.take_over("id-free", "c-dead", "c-3") is False

    def test_claiming_in_bulk_claims_what_is_free_and_reports_what_is_held(self, claims):
        claims.claim("held-by-other", "c-0")
        claims.claim("held-by-us", "c-1")
        taken = claims.claim_new([("free-1", "c-1"), ("held-by-other", "c-1"), ("held-by-us", "c-1"),
                                  ("free-2", "c-2"), ("twice", "c-1"), ("twice", "c-2")])
        assert taken == {"held-by-other", "held-by-us", "twice"}  # the caller settles these with `claim`
        assert claims.holder("free-1").owner == "c-1" and claims.holder("free-2").owner == "c-2"
        assert claims.holder("held-by-other").owner == "c-0"
        assert claims.holder("twice").owner in ("c-1", "c-2")
        assert claims.claim_new([]) == set()

    def test_claiming_in_order_stops_at_the_first_identity_held(self, claims):
        claims.claim("held", "c-0")
        assert claims.claim_in_order([("first", "c-1"), ("second", "c-1"), ("held", "c-1"), ("after", "c-1")]) == 2
        assert claims.holder("first").owner == "c-1" and claims.holder("second").owner == "c-1"
        assert claims.holder("held").owner == "c-0"
        assert claims.holder("after") is None  # never claimed: the caller settles it after "held", in order
        assert claims.claim_in_order([("new-1", "c-2"), ("new-2", "c-2")]) == 2
        assert claims.claim_in_order([("first", "c-1")]) == 0  # held by the same owner: the caller's `claim` says so
        assert claims.claim_in_order([]) == 0

    def test_concurrent_claimers_exactly_one_wins(self, claims):
        refused: list[str] = []
        barrier = threading.Barrier(5)

        def claim(owner: str) -> None:
            barrier.wait()
            if claims.claim("contested", owner) is not None:
                refused.append(owner)

        threads = [threading.Thread(target=claim, args=(f"c-{n}",)) for n in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winner = claims.holder("contested").owner
        assert len(refused) == 4 and winner not in refused
