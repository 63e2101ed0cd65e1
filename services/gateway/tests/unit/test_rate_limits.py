"""Rate-limit policies, windows and headers, and the limiter counting on the in-memory counters."""
import logging
import random
import threading
import time

import pytest

from gateway.domain import rate_limits
from gateway.domain.rate_limits import (Limits, Policy, RateLimited, TooManyFailedAuthentications, Usage,
                                        limit_header, policy_header)
from gateway.service_layer import rate_limiting
from gateway.service_layer.rate_limiting import FAIL_OPEN_PAUSE_S, RateLimiter

from gateway.testing.fakes import InMemoryRateLimitCounters
from gateway.testing.rate_limit_counters_contract import RateLimitCountersContract

LIMITS = Limits.per_second_and_minute(key_per_second=3, key_per_minute=5, account_per_minute=8,
                                      auth_failures_per_minute=2)
MINUTE_START = 1_780_000_020.0  # a whole minute since the epoch


class TestInMemoryRateLimitCounters(RateLimitCountersContract):
    @pytest.fixture
    def counters(self):
        return InMemoryRateLimitCounters()


class Clock:
    def __init__(self, now: float = MINUTE_START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def counters():
    return InMemoryRateLimitCounters()


@pytest.fixture
def limiter(counters, clock):
    return RateLimiter(counters, LIMITS, b"s" * 32, clock)


@pytest.fixture
def one_ticket_a_request(monkeypatch):
    """Large quotas keep a ticket a request: the tests of how a process finds its next ticket count requests."""
    monkeypatch.setattr(rate_limits, "TICKETS_AT_LEAST", 10**9)


def exceeded(usages):
    return [usage.policy.name for usage in usages if usage.exceeded]


def test_windows_are_aligned_on_the_clock_and_reset_counts_whole_seconds_to_their_end():
    minute, second = Policy("m", 10, 60), Policy("s", 2, 1)
    assert minute.window(MINUTE_START) == minute.window(MINUTE_START + 59.9) != minute.window(MINUTE_START + 60)
    assert minute.usage(3, MINUTE_START).reset_s == 60
    assert minute.usage(3, MINUTE_START + 17.2).reset_s == 43  # 42.8 s left: never announce an earlier end
    assert minute.usage(3, MINUTE_START + 59.99).reset_s == 1
    assert second.usage(1, MINUTE_START + 5.5).reset_s == 1


def test_a_usage_is_exceeded_only_past_the_quota_and_never_shows_a_negative_remainder():
    policy = Policy("key", 5, 60)
    assert [policy.usage(used, MINUTE_START).remaining for used in (1, 5, 6, 9)] == [4, 0, 0, 0]
    assert [policy.usage(used, MINUTE_START).exceeded for used in (5, 6)] == [False, True]


@pytest.mark.parametrize("quota, window_s", [(0, 60), (5, 0), (5, 7), (5, 120)])
def test_a_policy_needs_a_quota_and_a_window_dividing_a_minute(quota, window_s):
    with pytest.raises(ValueError):
        Policy("p", quota, window_s)


def test_the_headers_are_the_drafts_structured_field_lists():
    assert policy_header(LIMITS.of_a_caller) == '"key-burst";q=3;w=1, "key";q=5;w=60, "account";q=8;w=60'
    usages = (Usage(LIMITS.key_burst, 1, 1), Usage(LIMITS.key, 7, 42))
    assert limit_header(usages) == '"key-burst";r=2;t=1, "key";r=0;t=42'


def test_a_refusal_names_the_policies_overrun_and_retries_after_the_last_of_their_windows():
    refused = RateLimited((Usage(LIMITS.key_burst, 4, 1), Usage(LIMITS.key, 6, 42), Usage(LIMITS.account, 2, 42)))
    assert refused.status == 429 and refused.retry_after == 42
    assert refused.extra["violated_policies"] == ["key-burst", "key"]
    throttled = TooManyFailedAuthentications(Usage(LIMITS.auth_failures, 3, 17))
    assert throttled.status == 429 and throttled.retry_after == 17 and "failed to authenticate" in throttled.detail


def test_a_burst_is_refused_within_its_second_and_admitted_again_in_the_next(limiter, clock):
    results = [limiter.charge("k1", "a1") for _ in range(4)]
    assert [exceeded(usages) for usages in results] == [[], [], [], ["key-burst"]]
    assert [usage.remaining for usage in results[1]] == [1, 3, 6]
    assert [usage.policy.name for usage in results[3]] == ["key-burst"]  # the others were not counted
    clock.now += 1
    assert exceeded(limiter.charge("k1", "a1")) == []


def test_a_key_is_refused_past_its_minute_quota_until_the_next_minute(limiter, clock):
    for n in range(5):
        clock.now = MINUTE_START + n
        assert exceeded(limiter.charge("k1", "a1")) == []
    clock.now = MINUTE_START + 30.5
    refused = limiter.charge("k1", "a1")
    assert exceeded(refused) == ["key"] and refused[0].reset_s == 30
    clock.now = MINUTE_START + 60
    assert exceeded(limiter.charge("k1", "a1")) == []


def test_the_keys_of_an_account_share_its_quota_but_not_each_others(limiter, clock):
    for n in range(8):
        clock.now = MINUTE_START + n
        assert exceeded(limiter.charge(f"k{n % 2}", "a1")) == []
    assert exceeded(limiter.charge("k2", "a1")) == ["account"]
    assert exceeded(limiter.charge("k3", "a2")) == []  # another account


def test_a_request_refused_for_its_key_does_not_use_its_accounts_quota(limiter, clock, counters):
    for _ in range(10):
        limiter.charge("k1", "a1")  # 3 admitted, then refused for the burst
    assert len([ticket for ticket in counters.tickets if ticket.startswith("account:")]) == 3


def test_the_burst_is_counted_by_each_process_alone_and_the_minutes_are_shared(counters, clock):
    replicas = [RateLimiter(counters, LIMITS, b"s" * 32, clock) for _ in range(2)]
    assert [exceeded(replicas[0].charge("k1", "a1")) for _ in range(4)] == [[], [], [], ["key-burst"]]
    assert counters.calls == 3 * 2  # the key's minute and the account's, per admitted request; none for the burst
    assert not any(":key-burst:" in ticket for ticket in counters.tickets)
    assert [exceeded(replicas[1].charge("k1", "a1")) for _ in range(3)] == [[], [], ["key"]]  # 5 a minute


def test_a_full_window_is_refused_without_asking_the_database_again(limiter, counters):
    for _ in range(4):
        limiter.charge("k1", "a1")
    calls = counters.calls
    assert exceeded(limiter.charge("k1", "a1")) == ["key-burst"] and counters.calls == calls


def test_a_key_over_its_minute_takes_no_more_tickets_in_later_seconds(limiter, counters, clock):
    for n in range(6):
        clock.now = MINUTE_START + n
        limiter.charge("k1", "a1")
    calls, tickets = counters.calls, len(counters.tickets)
    clock.now = MINUTE_START + 7  # a new second: the burst's window has room, the minute's has not
    refused = limiter.charge("k1", "a1")
    assert exceeded(refused) == ["key"] and refused[0].reset_s == 53
    assert (counters.calls, len(counters.tickets)) == (calls, tickets)


def test_replicas_sharing_the_counters_admit_no_more_than_the_quota_between_them(counters, clock):
    replicas = [RateLimiter(counters, LIMITS, b"s" * 32, clock) for _ in range(3)]
    admitted = 0
    for n in range(12):
        clock.now = MINUTE_START + n  # one a second: only the minute's quota binds
        admitted += not exceeded(replicas[n % 3].charge("k1", "a1"))
    assert admitted == 5


def test_replicas_taking_turns_find_their_next_ticket_in_one_read_whatever_their_number(
        counters, clock, one_ticket_a_request):
    many = Limits.per_second_and_minute(1000, 1000, 1000, 10)
    for processes in (2, 4, 8):
        clock.now = MINUTE_START
        replicas = [RateLimiter(counters, many, b"s" * 32, clock) for _ in range(processes)]
        for n in range(6 * processes):  # each learns the pace the others take tickets at
            clock.now += 0.05
            replicas[n % processes].charge(f"k{processes}", f"a{processes}")
        calls = counters.calls
        for n in range(10 * processes):
            clock.now += 0.05
            replicas[n % processes].charge(f"k{processes}", f"a{processes}")
        assert counters.calls - calls == 10 * processes * 4  # per request: a read and an insert, key and account


def test_replicas_picked_at_random_find_their_next_ticket_in_few_statements(counters, clock, one_ticket_a_request):
    pick = random.Random(20261202)
    replicas = [RateLimiter(counters, Limits.per_second_and_minute(1000, 1000, 1000, 10), b"s" * 32, clock)
                for _ in range(4)]
    for _ in range(400):
        clock.now += 0.1
        pick.choice(replicas).charge("k1", "a1")
    assert counters.calls / 400 < 7.5  # 2 at best (one process); 8.9 without a guess, 9.0 guessing the last gap


def test_a_replica_far_behind_catches_up_in_a_few_tries_and_never_admits_past_the_quota(
        counters, clock, one_ticket_a_request):
    many = Limits.per_second_and_minute(1000, 1000, 1000, 10)
    busy, late = RateLimiter(counters, many, b"s", clock), RateLimiter(counters, many, b"s", clock)
    for _ in range(900):
        busy.charge("k1", "a1")
    calls = counters.calls
    assert exceeded(late.charge("k1", "a1")) == []
    assert counters.calls - calls <= 3 * 25  # about 2 log2(900) reads per policy, not 900 inserts
    admitted = 1 + sum(not exceeded(late.charge("k1", "a1")) for _ in range(200))
    assert admitted == 100


def test_an_address_is_refused_once_it_failed_more_often_than_allowed_and_is_stored_under_a_keyed_hash(
        limiter, counters, clock):
    assert [limiter.note_failure("203.0.113.9").remaining for _ in range(2)] == [1, 0]
    calls = counters.calls
    refused = limiter.note_failure("203.0.113.9")
    assert refused.exceeded and refused.remaining == 0 and counters.calls == calls  # remembered: no database call
    assert RateLimiter(counters, LIMITS, b"s" * 32, clock).note_failure("203.0.113.9").exceeded  # a replica
    assert not limiter.note_failure("198.51.100.4").exceeded
    assert not any("203.0.113.9" in ticket for ticket in counters.tickets)


def test_when_the_counters_fail_the_process_counts_alone_from_what_it_knew_logged_once_until_a_pause_ends(
        limiter, clock, counters, caplog):
    limiter.charge("key-zq", "account-zx")
    calls = counters.calls
    counters.unavailable = True
    with caplog.at_level(logging.WARNING):
        during = [limiter.charge("key-zq", "account-zx") for _ in range(3)]
        failures = [limiter.note_failure("203.0.113.9") for _ in range(3)]
    assert [exceeded(usages) for usages in during] == [[], [], ["key-burst"]]  # 1 counted before, quota 3
    assert [usage.used for usage in during[1]] == [3, 3, 3]
    assert [usage.remaining for usage in failures] == [1, 0, 0] and failures[2].exceeded
    assert counters.calls == calls + 1  # the others did not wait for the database again
    warnings = [r for r in caplog.records if "rate-limit counters unavailable" in r.getMessage()]
    assert len(warnings) == 1
    told = caplog.text + repr([r.__dict__ for r in warnings])
    assert "key-zq" not in told and "account-zx" not in told and "address:" not in told and "203.0.113.9" not in told
    counters.unavailable = False
    clock.now += FAIL_OPEN_PAUSE_S  # a new second, the same minute: the counters again, on from 3
    assert [usage.used for usage in limiter.charge("key-zq", "account-zx")] == [1, 4, 4]
    assert counters.calls > calls + 1


def test_an_ipv6_client_is_counted_by_its_64_an_ipv4_one_by_its_address(limiter):
    assert limiter.note_failure("2001:db8:1:2::1").remaining == 1
    assert limiter.note_failure("2001:db8:1:2:ffff:ffff:ffff:fffe").remaining == 0  # another address, one /64
    assert limiter.note_failure("2001:db8:1:3::1").remaining == 1
    assert limiter.note_failure("::ffff:203.0.113.9").remaining == 1
    assert limiter.note_failure("203.0.113.9").remaining == 0  # the same client, written as IPv4
    assert limiter.note_failure("203.0.113.10").remaining == 1


def test_past_the_counters_a_process_remembers_it_forgets_the_least_recently_counted_only(
        limiter, counters, monkeypatch):
    monkeypatch.setattr(rate_limiting, "REMEMBERED_COUNTERS", 3)
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"):
        limiter.note_failure(address)
    for address in ("198.51.100.3", "198.51.100.4"):
        calls = counters.calls
        assert limiter.note_failure(address).remaining == 0
        assert counters.calls == calls + 1  # remembered: ticket 2 at once, no read
    calls = counters.calls
    assert limiter.note_failure("198.51.100.1").remaining == 0
    assert counters.calls == calls + 3  # forgotten: ticket 1 taken already, a read, then ticket 2




def test_the_threads_of_one_process_take_a_counter_s_tickets_in_turn_never_racing_for_one(one_ticket_a_request):
    """Side by side, two threads raced for the same ticket and took each other's for another process's; at 40
    writes a second through make run's gateway that was about 39 statements a request instead of 9."""
    class SlowCounters(InMemoryRateLimitCounters):
        refused = 0

        def take(self, counter_id, number, expires_at):
            time.sleep(0.0005)  # a database's round trip, during which another thread may come
            taken = super().take(counter_id, number, expires_at)
            type(self).refused += not taken
            return taken

    counters = SlowCounters()
    limiter = RateLimiter(counters, Limits.per_second_and_minute(1000, 1000, 1000, 10), b"s" * 32)
    threads = [threading.Thread(target=lambda: [limiter.charge("k1", "a1") for _ in range(25)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert SlowCounters.refused == 0
    assert counters.calls == 200 * 2, "one insert per request for the key's minute and one for the account's"


def test_a_large_quota_s_ticket_admits_a_hundredth_of_it_and_a_small_one_s_a_request():
    policies = [Policy("p", quota, 60) for quota in (5, 199, 200, 600, 1250)]
    assert [(policy.ticket_size, policy.tickets) for policy in policies] \
        == [(1, 5), (1, 199), (2, 100), (6, 100), (12, 105)]
    last = Policy("p", 1250, 60)
    assert list(last.requests_of(1)) == list(range(1, 13)) and list(last.requests_of(105)) == [1249, 1250]


def test_a_process_admits_a_ticket_s_requests_on_one_statement_numbered_in_order(counters, clock):
    limiter = RateLimiter(counters, Limits.per_second_and_minute(1000, 1000, 2000, 10), b"s" * 32, clock)
    usages = [limiter.charge("k1", "a1") for _ in range(100)]
    assert [[usage.used for usage in charged] for charged in usages] == [[n, n, n] for n in range(1, 101)]
    assert counters.calls == 100 // 10 + 100 // 20  # the key's tickets admit 10 requests, the account's 20
    assert sorted(counters.tickets)[:2] == ["account:a1:account:29666667x20#1", "account:a1:account:29666667x20#2"]


def test_replicas_sharing_tickets_of_many_requests_never_admit_more_than_the_quota_between_them(counters, clock):
    pick = random.Random(20261205)
    replicas = [RateLimiter(counters, Limits.per_second_and_minute(1000, 1000, 5000, 10), b"s" * 32, clock)
                for _ in range(3)]
    admitted = 0
    for _ in range(1500):
        clock.now += 0.02
        admitted += not exceeded(pick.choice(replicas).charge("k1", "a1"))
    assert admitted == 1000
    calls = counters.calls
    assert all(exceeded(replica.charge("k1", "a1")) == ["key"] for replica in replicas)
    assert counters.calls == calls, "each replica knows the window is full"


def test_the_requests_a_replica_holds_are_not_the_others_and_are_lost_if_it_does_not_use_them(counters, clock):
    limits = Limits.per_second_and_minute(1000, 1000, 5000, 10)  # the key's tickets admit 10 requests
    holding, busy = (RateLimiter(counters, limits, b"s" * 32, clock) for _ in range(2))
    holding.charge("k1", "a1")
    assert sum(not exceeded(busy.charge("k1", "a1")) for _ in range(1000)) == 990  # tickets 2 to 100
    assert exceeded(busy.charge("k1", "a1")) == ["key"]  # though 9 of the window's requests are unused
    assert sum(not exceeded(holding.charge("k1", "a1")) for _ in range(20)) == 9  # the rest of its ticket


def test_a_replica_numbers_a_request_past_the_others_tickets_then_on_its_own_without_asking_again(counters, clock):
    limits = Limits.per_second_and_minute(1000, 1000, 5000, 10)
    one, other = (RateLimiter(counters, limits, b"s" * 32, clock) for _ in range(2))
    for _ in range(500):
        other.charge("k1", "a1")  # tickets 1 to 50
    assert one.charge("k1", "a1")[1].used == 501  # ticket 51, found past the others'
    for _ in range(20):
        other.charge("k1", "a1")  # tickets 52 and 53
    assert one.charge("k1", "a1")[1].used == 502  # on its own ticket: it has not asked the counters since


def test_the_threads_of_one_process_share_its_ticket_s_requests_each_numbered_once(clock):
    class SlowCounters(InMemoryRateLimitCounters):
        def take(self, counter_id, number, expires_at):
            time.sleep(0.0005)  # a database's round trip, during which another thread may come
            return super().take(counter_id, number, expires_at)

    counters = SlowCounters()
    limiter = RateLimiter(counters, Limits.per_second_and_minute(1000, 1000, 2000, 10), b"s" * 32, clock)
    numbers, lock = [], threading.Lock()

    def charge_25():
        for _ in range(25):
            usages = limiter.charge("k1", "a1")
            with lock:
                numbers.append(usages[1].used)

    threads = [threading.Thread(target=charge_25) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 201))
    assert counters.calls == 200 // 10 + 200 // 20


def test_a_ticket_s_unused_requests_are_not_carried_into_the_next_window(counters, clock):
    limiter = RateLimiter(counters, Limits.per_second_and_minute(1000, 1000, 2000, 10), b"s" * 32, clock)
    limiter.charge("k1", "a1")
    clock.now = MINUTE_START + 60
    assert [usage.used for usage in limiter.charge("k1", "a1")] == [1, 1, 1]
    assert counters.calls == 4  # a new ticket of each counter, in the new window


def test_when_the_counters_fail_a_ticket_held_is_used_up_then_the_next_ones_counted_alone(counters, clock):
    limiter = RateLimiter(counters, Limits.per_second_and_minute(1000, 1000, 2000, 10), b"s" * 32, clock)
    limiter.charge("k1", "a1")
    counters.unavailable = True
    keys = [limiter.charge("k1", "a1")[1].used for _ in range(11)]
    assert keys == list(range(2, 13))  # 2 to 10 on the ticket held, then ticket 2 taken alone
    counters.unavailable = False
    clock.now += FAIL_OPEN_PAUSE_S
    assert limiter.charge("k1", "a1")[1].used == 13  # on from ticket 2, still held


def test_a_process_holding_the_last_ticket_admits_its_requests_before_the_window_is_full(counters, clock):
    limits = Limits.per_second_and_minute(1000, 200, 5000, 10)  # the key's tickets admit 2 requests, 100 of them
    other, limiter = (RateLimiter(counters, limits, b"s" * 32, clock) for _ in range(2))
    for _ in range(198):
        other.charge("k1", "a1")
    assert [exceeded(limiter.charge("k1", "a1")) for _ in range(3)] == [[], [], ["key"]]
