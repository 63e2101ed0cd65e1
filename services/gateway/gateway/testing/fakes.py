"""In-memory stand-ins of the gateway's adapters, for unit tests; held to the same contract as the real ones."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from gateway.adapters.idempotency_records import IdempotencyRecords
from gateway.adapters.rate_limit_counters import CountersUnavailable, RateLimitCounters, ticket_id
from gateway.domain.idempotency import Record, State
from gateway.domain.replay import KeptResponse


class InMemoryIdempotencyRecords(IdempotencyRecords):
    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self._lock = threading.Lock()

    def add(self, record: Record) -> bool:
        with self._lock:
            return self.records.setdefault(record.id, record) is record

    def get(self, record_id: str) -> Record | None:
        return self.records.get(record_id)

    def replace(self, stored: Record, fresh: Record) -> bool:
        with self._lock:
            if not self._unchanged(stored):
                return False
            self.records[stored.id] = fresh
            return True

    def complete(self, record: Record, response: KeptResponse) -> bool:
        with self._lock:
            if not self._unchanged(record):
                return False
            self.records[record.id] = replace(self.records[record.id], state=State.COMPLETED, response=response)
            return True

    def release(self, record: Record) -> None:
        with self._lock:
            if self._unchanged(record):
                del self.records[record.id]

    def delete_expired(self, now: datetime) -> int:
        with self._lock:
            expired = [record_id for record_id, record in self.records.items() if record.expired(now)]
            for record_id in expired:
                del self.records[record_id]
            return len(expired)

    def _unchanged(self, record: Record) -> bool:
        held = self.records.get(record.id)
        return held is not None and held.owner == record.owner and held.state is record.state


class InMemoryRateLimitCounters(RateLimitCounters):
    """Tickets in a dict; `unavailable = True` makes every call fail as a database outage does."""

    def __init__(self) -> None:
        self.tickets: dict[str, datetime] = {}
        self.unavailable = False
        self.calls = 0
        self._lock = threading.Lock()

    def take(self, counter_id: str, number: int, expires_at: datetime) -> bool:
        with self._lock:
            self._answer()
            if ticket_id(counter_id, number) in self.tickets:
                return False
            self.tickets[ticket_id(counter_id, number)] = expires_at
            return True

    def taken(self, counter_id: str, number: int) -> bool:
        with self._lock:
            self._answer()
            return ticket_id(counter_id, number) in self.tickets

    def delete_expired(self, now: datetime) -> int:
        with self._lock:
            self._answer()
            expired = [ticket for ticket, expiry in self.tickets.items() if expiry <= now]
            for ticket in expired:
                del self.tickets[ticket]
            return len(expired)

    def _answer(self) -> None:
        self.calls += 1
        if self.unavailable:
            raise CountersUnavailable("ServerSelectionTimeoutError")
