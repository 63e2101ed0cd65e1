"""The contract every RateLimitCounters keeps; run against the fake AND the MongoDB adapter.

Subclass `RateLimitCountersContract` and provide a `counters` fixture.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

# MongoDB keeps milliseconds: a whole millisecond reads back equal.
NOW = datetime(2026, 3, 2, 9, 30, 0, 123000, tzinfo=timezone.utc)


class RateLimitCountersContract:
    def test_a_ticket_is_taken_once(self, counters):
        assert counters.taken("key:k1:key:100", 1) is False
        assert counters.take("key:k1:key:100", 1, NOW) is True
        assert counters.take("key:k1:key:100", 1, NOW) is False
        assert counters.taken("key:k1:key:100", 1) is True
        assert counters.taken("key:k1:key:100", 2) is False and counters.taken("key:k1:key:101", 1) is False
        assert counters.take("key:k1:key:101", 1, NOW) is True  # another window, another counter

    def test_of_simultaneous_takers_of_a_ticket_exactly_one_gets_it(self, counters):
        won: list[bool] = []
        threads = [threading.Thread(target=lambda: won.append(counters.take("account:a1:account:100", 7, NOW)))
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(won) == [False] * 7 + [True]

    def test_expired_tickets_and_only_those_are_deleted(self, counters):
        for n in range(1, 4):
            counters.take("key:k1:key:100", n, NOW - timedelta(seconds=1))
        counters.take("key:k1:key:101", 1, NOW + timedelta(seconds=1))
        assert counters.delete_expired(NOW) == 3
        assert counters.delete_expired(NOW) == 0
        assert not any(counters.taken("key:k1:key:100", n) for n in range(1, 4))
        assert counters.taken("key:k1:key:101", 1)
