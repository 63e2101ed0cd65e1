"""Rate limits: how many requests a key, an account and a client address may send, and how that is told.

Counting is by fixed windows aligned on the clock (the second, the minute), shared by the replicas of
the gateway (service_layer/rate_limiting.py). A fixed window lets a client send up to twice a minute's
quota across the turn of a minute; the per-second burst limit bounds how fast that can go, and fixed
windows keep the hot path to single-document statements by `_id`.

What a client is told follows the IETF draft "RateLimit header fields for HTTP"
(draft-ietf-httpapi-ratelimit-headers-10 and later, structured fields): `RateLimit-Policy` lists the
policies that apply (`"key";q=600;w=60`), `RateLimit` what is left of each (`"key";r=599;t=42`), and a
refused request gets 429 with `Retry-After` no earlier than the end of every window it overran.
"""
from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from crm_platform.errors import CrmError

MINUTE_S = 60
# An IPv6 client is given a /64 at least (RFC 6177 and common practice): it can pick a new address in it
# for every request, so its failures are counted per /64.
IPV6_CLIENT_PREFIX = 64
# Once a quota is large, one ticket admits several requests: a gateway process takes a ticket for its next
# `ticket_size` requests, so the shared counters see a statement or two per ticket rather than per request (at
# 40 writes a second through make run's gateway, tickets were a fifth of every statement its database ran).
# What a process took and did not use before its window ends is lost to the others: at most `ticket_size - 1`
# requests a process, a hundredth of the quota. A quota under 200 keeps one ticket a request.
TICKETS_AT_LEAST = 100


@dataclass(frozen=True)
class Policy:
    """`quota` requests per window of `window_s` seconds (a divisor of a minute, or a minute)."""

    name: str
    quota: int
    window_s: int

    def __post_init__(self) -> None:
        if self.quota < 1 or self.window_s < 1 or MINUTE_S % self.window_s:
            raise ValueError(f"policy {self.name}: a quota of 1 or more per window dividing a minute")

    def window(self, now: float) -> int:
        """The number of the window `now` (seconds since the epoch) falls in."""
        return int(now // self.window_s)

    @property
    def ticket_size(self) -> int:
        """How many requests one ticket of this policy's counters admits."""
        return max(1, self.quota // TICKETS_AT_LEAST)

    @property
    def tickets(self) -> int:
        """How many tickets a window has (the last one may admit fewer requests than the others)."""
        return -(-self.quota // self.ticket_size)

    def requests_of(self, ticket: int) -> range:
        """The numbers (1 to the quota) of the window's requests that ticket `ticket` admits."""
        first = (ticket - 1) * self.ticket_size + 1
        return range(first, min(first + self.ticket_size, self.quota + 1))

    def usage(self, used: int, now: float) -> "Usage":
        """Where this policy stands once `used` requests were counted in the window of `now`."""
        window_end = (self.window(now) + 1) * self.window_s
        return Usage(self, used, max(1, math.ceil(window_end - now)))

    @property
    def field(self) -> str:
        """The policy as an item of `RateLimit-Policy`."""
        return f'"{self.name}";q={self.quota};w={self.window_s}'


@dataclass(frozen=True)
class Usage:
    """A policy's count in the current window, this request included, and the seconds until the window ends."""

    policy: Policy
    used: int
    reset_s: int

    @property
    def remaining(self) -> int:
        return max(0, self.policy.quota - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.policy.quota

    @property
    def field(self) -> str:
        """The service limit as an item of `RateLimit`."""
        return f'"{self.policy.name}";r={self.remaining};t={self.reset_s}'


@dataclass(frozen=True)
class Limits:
    """The policies of the gateway, from its settings."""

    key_burst: Policy
    key: Policy
    account: Policy
    auth_failures: Policy

    @classmethod
    def per_second_and_minute(cls, key_per_second: int, key_per_minute: int, account_per_minute: int,
                              auth_failures_per_minute: int) -> "Limits":
        return cls(Policy("key-burst", key_per_second, 1), Policy("key", key_per_minute, MINUTE_S),
                   Policy("account", account_per_minute, MINUTE_S),
                   Policy("auth-failures", auth_failures_per_minute, MINUTE_S))

    @property
    def of_a_caller(self) -> tuple[Policy, ...]:
        """The policies every authenticated request counts against."""
        return self.key_burst, self.key, self.account


def address_bucket(address: str) -> str:
    """What failures are counted under for a client address: an IPv4 address itself (an IPv4-mapped IPv6 one
    too), an IPv6 address's /64; anything else as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(parsed), IPV6_CLIENT_PREFIX), strict=False))


def policy_header(policies: tuple[Policy, ...]) -> str:
    return ", ".join(policy.field for policy in policies)


def limit_header(usages: tuple[Usage, ...]) -> str:
    return ", ".join(usage.field for usage in usages)


class RateLimited(CrmError):
    """429: a policy's quota is used up until its window ends (`Retry-After`)."""

    status = 429
    title = "Too many requests"
    slug = "rate-limited"

    def __init__(self, usages: tuple[Usage, ...]) -> None:
        exceeded = [usage for usage in usages if usage.exceeded]
        names = [usage.policy.name for usage in exceeded]
        super().__init__(f"over the rate limit of {', '.join(names)}: see the RateLimit headers, "
                         "and retry after Retry-After seconds", violated_policies=names)
        self.retry_after = max(usage.reset_s for usage in exceeded)


class TooManyFailedAuthentications(RateLimited):
    title = "Too many failed authentications"
    slug = "too-many-failed-authentications"

    def __init__(self, usage: Usage) -> None:
        super().__init__((usage,))
        self.detail = (f"more than {usage.policy.quota} requests from this address failed to authenticate in the "
                       f"last {usage.policy.window_s} s; a request from it with a key that is not valid is refused "
                       "so until Retry-After seconds")
