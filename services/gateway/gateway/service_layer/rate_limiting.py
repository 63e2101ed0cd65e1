"""Counting requests against the rate-limit policies, on this process's own count when the counters fail.

A process admits requests on tickets of the window's counter (adapters/rate_limit_counters.py),
taken in order: ticket n admits the window's n-th request, or, once a quota is large, its n-th run
of `Policy.ticket_size` requests, which the process that took it admits without asking the database
again; when the last ticket is taken and used, the window is full.
Each process remembers the highest ticket it saw taken in each counter's current window, so it
starts from there, and a full window is refused with no database call at all. When other replicas
took tickets meanwhile, the process first guesses how many from the pace they took them at so far
(one read confirms the guess when traffic is steady), else finds the first free ticket by reads
(steps growing 1, 2, 4... then halving back), so a process far behind catches up in a few reads
rather than one insert per ticket taken. The per-second burst is counted by each process alone
(`charge`).

When the counters fail (unreachable, slower than their timeout), the process counts on by itself
from the highest ticket it knew, and does not try the counters again for `FAIL_OPEN_PAUSE_S` (logged
once, so an outage adds no delay to every request): each replica then admits up to the quota on its
own, a looser limit than the shared one but a limit all the same.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from crm_platform.worker_runtime import Loop

from gateway.adapters.rate_limit_counters import CountersUnavailable, RateLimitCounters
from gateway.domain.rate_limits import Limits, Policy, Usage, address_bucket
from gateway.service_layer import expiry_sweep

log = logging.getLogger(__name__)
FAIL_OPEN_PAUSE_S = 5.0
# A ticket is kept a minute past its window: a replica whose clock lags may still count in it.
KEPT_AFTER_WINDOW_S = 60
# Counters a process remembers (addresses are as many as clients): past that, the least recently counted
# is forgotten, which costs at most a read or an insert more the next time it is counted.
REMEMBERED_COUNTERS = 10_000
SWEEP_EVERY_S = 60.0
# Locks a process's threads take a counter's tickets under, one per counter (a few counters share one)
ADMITTING_STRIPES = 64
# The shortest time a pace is measured over (clocks tick in steps; two requests may read the same time).
PACE_MIN_S = 0.001


@dataclass
class _Count:
    """What a process knows of one counter (a subject's policy) in its current window."""

    window: int
    highest: int = 0  # the highest ticket seen taken
    since: float = 0.0  # when it was seen
    pace: float = 0.0  # the tickets the others take a second (kept from window to window)
    held: int = 0  # the ticket this process admits its requests on (0: none yet)
    used: int = 0  # how many of that ticket's requests it admitted

    def holds_more(self, policy: Policy) -> bool:
        return self.held > 0 and self.used < len(policy.requests_of(self.held))


class RateLimiter:
    def __init__(self, counters: RateLimitCounters, limits: Limits, address_secret: bytes,
                 clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self._counters = counters
        self._address_secret = address_secret
        self._clock = clock
        # (subject, policy) -> what this process knows of the counter, least recently counted first
        self._seen: OrderedDict[tuple[str, str], _Count] = OrderedDict()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        # The threads of a process take a counter's tickets in turn: side by side they raced for the same ticket
        # (one insert refused each time) and each took the other's for another process's, whose pace then
        # looked a thousand a second: the next guess overshot and was halved back read by read. At 40 writes a
        # second through make run's gateway (2 processes of 8 threads): 10,444 ticket reads, 3,122 inserts and
        # 1,947 refused inserts in 10 s, about 39 statements a request; 9 in turn (benchmarks/statement_log.py).
        self._admitting = [threading.Lock() for _ in range(ADMITTING_STRIPES)]

    def charge(self, key_id: str, account_id: str) -> tuple[Usage, ...]:
        """Count a request of an authenticated key against its policies, in order, until one refuses it (one
        key's excess must not use up its account's quota for the others).
        A window this process knows is full refuses the request before any ticket is taken. The burst is
        counted by each process alone: a second's counter is new every second, so sharing it cost the most
        statements (processes behind one another search it afresh), for the policy least worth sharing
        (the minute's quota, shared, is what bounds a key)."""
        key, account = f"key:{key_id}", f"account:{account_id}"
        counted = ((key, self.limits.key_burst), (key, self.limits.key), (account, self.limits.account))
        now = self._clock()
        for subject, policy in counted:
            if self._full(subject, policy, now):
                return (policy.usage(policy.quota + 1, now),)
        usages = [self._count(key, self.limits.key_burst, now, shared=False)]
        for subject, policy in counted[1:]:
            if usages[-1].exceeded:
                break
            usages.append(self._count(subject, policy, now))
        return tuple(usages)

    def note_failure(self, address: str) -> Usage:
        """Count a failed authentication from the address, exceeded once it failed more often than allowed.
        Only failures are counted: a valid key is never refused for its address."""
        return self._count(self._address(address), self.limits.auth_failures, self._clock())

    def _count(self, subject: str, policy: Policy, now: float, shared: bool = True) -> Usage:
        """Admit the request on the ticket this process holds in the window while it admits more, else on a new
        one: taken in the shared counters, or counted alone (`shared` False: the burst; or the counters failed
        lately)."""
        with self._admitting[hash((subject, policy.name)) % ADMITTING_STRIPES]:
            count = self._count_of(subject, policy, now)
            if count.holds_more(policy):
                count.used += 1
            else:
                ticket = self._new_ticket(subject, policy, now, shared)
                if ticket > policy.tickets:
                    return policy.usage(policy.quota + 1, now)
                count = self._count_of(subject, policy, now)
                count.held, count.used = ticket, 1
            # the request's number in the window as this process knows it: while it admits on a ticket it holds, it
            # does not ask the counters, so what other processes admitted meanwhile is not in it (docs/api.md)
            return policy.usage(policy.requests_of(count.held)[count.used - 1], now)

    def _new_ticket(self, subject: str, policy: Policy, now: float, shared: bool) -> int:
        if shared and now >= self._paused_until:
            try:
                return self._admit(subject, policy, now)
            except CountersUnavailable as exc:
                self._pause(exc)
        return self._take_alone(subject, policy, now)

    def _admit(self, subject: str, policy: Policy, now: float) -> int:
        """The ticket this process took in the shared counter; one past the last if the window is full."""
        counter = self._counter(subject, policy, now)
        expires_at = datetime.fromtimestamp((policy.window(now) + 1) * policy.window_s + KEPT_AFTER_WINDOW_S,
                                            timezone.utc)
        count = self._count_of(subject, policy, now)
        highest, since, pace = count.highest, count.since, count.pace
        number = self._first_free_guessed(counter, highest, policy.tickets, round(pace * (now - since)))
        self._remember(subject, policy, now, number - 1)
        while number <= policy.tickets:
            if self._counters.take(counter, number, expires_at):
                seen_pace = (number - highest - 1) / max(now - since, PACE_MIN_S)
                self._remember(subject, policy, now, number, pace=(pace + seen_pace) / 2)
                return number
            number = self._first_free(counter, number, policy.tickets)  # others took it: look further
            self._remember(subject, policy, now, number - 1)
        return number

    def _take_alone(self, subject: str, policy: Policy, now: float) -> int:
        """The ticket after the highest this process knew taken, counted in this process only (the burst; any
        policy while the counters fail)."""
        number = self._count_of(subject, policy, now).highest + 1
        if number <= policy.tickets:
            self._remember(subject, policy, now, number)
        return number

    def _pause(self, exc: CountersUnavailable) -> None:
        with self._lock:
            first = self._clock() >= self._paused_until
            self._paused_until = self._clock() + FAIL_OPEN_PAUSE_S
        if first:
            log.warning("rate-limit counters unavailable: each gateway process counts on its own", extra={
                "error": str(exc), "retry_in_s": FAIL_OPEN_PAUSE_S})

    def _first_free_guessed(self, counter: str, taken: int, last: int, lag: int) -> int:
        """Where to try first after ticket `taken`: if the others took `lag` tickets since (at the pace they
        took them before), ticket `taken + lag` is taken and the next one free, which one read confirms
        (taken tickets are always 1 to some n: one is taken only after the one before it)."""
        if lag <= 0:  # none expected, or a clock that went back
            return taken + 1
        guess = min(taken + lag, last)
        if self._counters.taken(counter, guess):
            return guess + 1
        return self._halved(counter, taken, guess)

    def _first_free(self, counter: str, taken: int, last: int) -> int:
        """The first ticket after `taken` that is free (`last` + 1 if none), in a few reads: steps growing
        (1, 2, 4...) until a free one, then halving back between it and the last taken one."""
        step, free = 1, last + 1
        while taken + step <= last:
            if not self._counters.taken(counter, taken + step):
                free = taken + step
                break
            taken, step = taken + step, step * 2
        return self._halved(counter, taken, free)

    def _halved(self, counter: str, taken: int, free: int) -> int:
        """The first free ticket after `taken` and up to `free` (free), by halving."""
        while free - taken > 1:
            middle = (taken + free) // 2
            if self._counters.taken(counter, middle):
                taken = middle
            else:
                free = middle
        return free

    def _counter(self, subject: str, policy: Policy, now: float) -> str:
        """The counter of the window of `now`. A ticket admitting several requests says how many in its name, so
        that processes configured with another quota (a deploy in progress) never read its numbers as theirs."""
        size = f"x{policy.ticket_size}" if policy.ticket_size > 1 else ""
        return f"{subject}:{policy.name}:{policy.window(now)}{size}"

    def _full(self, subject: str, policy: Policy, now: float) -> bool:
        """Whether this process knows the window of `now` has no request left for it to admit."""
        count = self._count_of(subject, policy, now)
        return count.highest >= policy.tickets and not count.holds_more(policy)

    def _count_of(self, subject: str, policy: Policy, now: float) -> _Count:
        """What this process knows of the counter in the window of `now` (nothing yet in a new window, but the
        others' pace), now the most recently counted."""
        name, window = (subject, policy.name), policy.window(now)
        with self._lock:  # threads under other stripes change the dict too (an eviction between get and move)
            count = self._seen.get(name)
            if count is None or count.window != window:
                count = _Count(window, since=window * policy.window_s, pace=count.pace if count else 0.0)
                self._seen[name] = count
            self._seen.move_to_end(name)
            while len(self._seen) > REMEMBERED_COUNTERS:
                self._seen.popitem(last=False)
        return count

    def _remember(self, subject: str, policy: Policy, now: float, number: int, pace: float | None = None) -> None:
        count = self._count_of(subject, policy, now)
        if number > count.highest:
            count.highest, count.since = number, now
            if pace is not None:
                count.pace = pace

    def _address(self, address: str) -> str:
        # an address is personal data: counted under a keyed hash, never stored as it is
        bucket = address_bucket(address)
        return "address:" + hmac.new(self._address_secret, bucket.encode(), hashlib.sha256).hexdigest()[:32]


def sweep_loop(counters: RateLimitCounters, every_s: float = SWEEP_EVERY_S) -> Loop:
    """The worker's loop: delete expired counters at start, then every `every_s`, until stopped."""
    return expiry_sweep.sweep_loop(counters, every_s, "rate-limit counters")
