"""Deliveries: one event to one endpoint, tried until the endpoint answers 2xx or the retry window closes.

Retries follow a schedule of growing delays (5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h), each moved by up to
±JITTER of itself so that an endpoint that was down does not get all its retries in the same second, for up to
RETRY_WINDOW after the first attempt; then the delivery has failed. Deliveries are at least once and in no
promised order (a retry can overtake a later event).

An endpoint that keeps failing is disabled: when no attempt succeeded for `disable_after` since its first failure,
or after `disable_after_failed_deliveries` deliveries in a row ended failed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol, TypeVar

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
STATES = (PENDING, DELIVERED, FAILED, CANCELLED)
JITTER = 0.1
DEFAULT_DELAYS = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                  timedelta(hours=5), timedelta(hours=10))
RETRY_WINDOW = timedelta(days=3)


def delivery_id(event_id: str, endpoint_id: str) -> str:
    """One delivery per event and endpoint: its _id, so that a redelivered event inserts nothing new."""
    return f"{event_id}:{endpoint_id}"


@dataclass(frozen=True)
class RetrySchedule:
    delays: tuple[timedelta, ...] = DEFAULT_DELAYS  # after the 1st failed attempt, the 2nd...; the last repeats
    window: timedelta = RETRY_WINDOW  # no attempt later than this after the first of the series
    jitter: float = JITTER
    random_fraction: Callable[[], float] = field(default=random.random, compare=False)  # in [0, 1)

    def next_attempt(self, failed_attempts: int, series_started_at: datetime, now: datetime) -> datetime | None:
        """When to try again after `failed_attempts` failed attempts of a series, or None: give up."""
        delay = self.delays[min(failed_attempts, len(self.delays)) - 1]
        spread = delay * self.jitter * (2 * self.random_fraction() - 1)
        at = now + delay + spread
        return at if at <= series_started_at + self.window else None


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: an HTTP status, or an error (no answer: refused target, timeout, reset)."""

    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class DisablePolicy:
    after: timedelta = timedelta(days=5)
    after_failed_deliveries: int = 10

    def reason(self, failing_since: datetime | None, failed_deliveries: int, now: datetime) -> str | None:
        """Why an endpoint in this state is disabled now, or None: it is kept."""
        if failing_since is not None and now - failing_since >= self.after:
            return f"every delivery attempt failed for {self.after.days} days"
        if failed_deliveries >= self.after_failed_deliveries:
            return f"{failed_deliveries} deliveries in a row failed"
        return None


class _ForAnEndpoint(Protocol):
    endpoint_id: str


Due = TypeVar("Due", bound=_ForAnEndpoint)


def fair_share(due: list[Due], limit: int, per_endpoint: int) -> list[Due]:
    """At most `limit` of the due deliveries, in their order, at most `per_endpoint` of any one endpoint: an
    endpoint with a backlog that times out does not hold up every other."""
    taken: list[Due] = []
    counts: dict[str, int] = {}
    for delivery in due:
        if counts.get(delivery.endpoint_id, 0) < per_endpoint:
            counts[delivery.endpoint_id] = counts.get(delivery.endpoint_id, 0) + 1
            taken.append(delivery)
            if len(taken) == limit:
                break
    return taken
