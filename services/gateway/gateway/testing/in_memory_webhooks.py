"""In-memory stand-ins of the webhook endpoints and deliveries adapters, for unit tests of the delivery loop and the
notices; held to the same contract as the MongoDB ones (gateway.testing.webhook_stores_contract)."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from gateway.adapters.webhook_deliveries import Delivery
from gateway.adapters.webhook_endpoints import Endpoint
from gateway.domain.webhook_deliveries import CANCELLED, PENDING, Outcome


class InMemoryWebhookEndpoints:
    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Lock()

    def add(self, endpoint: Endpoint) -> None:
        with self._lock:
            self.endpoints[endpoint.id] = replace(endpoint, enabled_since=endpoint.enabled_since or endpoint.created_at,
                                                  failing_since=None, failed_deliveries=0)

    def get(self, account_id: str, endpoint_id: str) -> Endpoint | None:
        found = self.endpoints.get(endpoint_id)
        return found if found is not None and found.account_id == account_id else None

    def of_account(self, account_id: str) -> list[Endpoint]:
        return sorted((e for e in self.endpoints.values() if e.account_id == account_id),
                      key=lambda e: (e.created_at, e.id))

    def update(self, account_id: str, endpoint_id: str, changes: dict) -> Endpoint | None:
        with self._lock:
            if self.get(account_id, endpoint_id) is None:
                return None
            self.endpoints[endpoint_id] = replace(self.endpoints[endpoint_id], **changes)
            return self.endpoints[endpoint_id]

    def remove(self, account_id: str, endpoint_id: str) -> bool:
        with self._lock:
            return self.get(account_id, endpoint_id) is not None and self.endpoints.pop(endpoint_id) is not None

    def note_success(self, endpoint_id: str) -> None:
        with self._lock:
            if endpoint_id in self.endpoints:
                self.endpoints[endpoint_id] = replace(self.endpoints[endpoint_id], failing_since=None,
                                                      failed_deliveries=0)

    def note_failure(self, endpoint_id: str, now: datetime, delivery_failed: bool,
                     failing_already: bool) -> Endpoint | None:
        with self._lock:
            found = self.endpoints.get(endpoint_id)
            if found is None:
                return None
            self.endpoints[endpoint_id] = replace(found, failing_since=found.failing_since or now,
                                                  failed_deliveries=found.failed_deliveries + int(delivery_failed))
            return self.endpoints[endpoint_id]

    def disable(self, endpoint_id: str, reason: str, now: datetime) -> bool:
        with self._lock:
            found = self.endpoints.get(endpoint_id)
            if found is None or not found.enabled:
                return False
            self.endpoints[endpoint_id] = replace(found, enabled=False, disabled_reason=reason, disabled_at=now,
                                                  updated_at=now, disabled_notice_pending=True)
            return True

    def notice_queued(self, endpoint_id: str, disabled_at: datetime) -> None:
        with self._lock:
            found = self.endpoints.get(endpoint_id)
            if found is not None and found.disabled_notice_pending and found.disabled_at == disabled_at:
                self.endpoints[endpoint_id] = replace(found, disabled_notice_pending=False)

    def owing_a_notice(self) -> list[Endpoint]:
        return [endpoint for endpoint in self.endpoints.values() if endpoint.disabled_notice_pending]

    def by_ids(self, endpoint_ids: set[str]) -> dict[str, Endpoint]:
        return {endpoint_id: self.endpoints[endpoint_id] for endpoint_id in endpoint_ids if endpoint_id in self.endpoints}

    def enabled_of_account(self, account_id: str) -> list[Endpoint]:
        return [endpoint for endpoint in self.of_account(account_id) if endpoint.enabled]

    def enabled_of_accounts(self, account_ids: set[str]) -> dict[str, list[Endpoint]]:
        found = {account_id: self.enabled_of_account(account_id) for account_id in account_ids}
        return {account_id: endpoints for account_id, endpoints in found.items() if endpoints}


class InMemoryWebhookDeliveries:
    def __init__(self) -> None:
        self.deliveries: dict[str, Delivery] = {}
        self._lock = threading.Lock()

    def add(self, delivery_id: str, *, account_id: str, endpoint_id: str, event_id: str, event_type: str, body: str,
            now: datetime) -> bool:
        with self._lock:
            if delivery_id in self.deliveries:
                return False
            self.deliveries[delivery_id] = Delivery(
                id=delivery_id, account_id=account_id, endpoint_id=endpoint_id, event_id=event_id,
                event_type=event_type, body=body, state=PENDING, attempts=0, series_attempts=0,
                series_started_at=None, next_attempt_at=now, created_at=now)
            return True

    def due(self, now: datetime, limit: int, but_for: frozenset[str] = frozenset()) -> list[Delivery]:
        due = [d for d in self.deliveries.values()
               if d.state == PENDING and d.next_attempt_at <= now and d.endpoint_id not in but_for]
        return sorted(due, key=lambda d: d.next_attempt_at)[:limit]

    def page(self, account_id: str, endpoint_id: str, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
        """The endpoint's deliveries, newest first (one page: the fake has no cursors)."""
        if cursor is not None:
            raise NotImplementedError("the in-memory deliveries have no cursors")
        mine = [d for d in self.deliveries.values() if d.account_id == account_id and d.endpoint_id == endpoint_id]
        return sorted(mine, key=lambda d: d.created_at, reverse=True)[:limit], None

    def record_attempt(self, delivery: Delivery, outcome: Outcome, now: datetime, *, state: str,
                       next_attempt_at: datetime | None) -> None:
        with self._lock:
            held = self.deliveries.get(delivery.id)
            if held is None or held.state != PENDING:
                return
            self.deliveries[delivery.id] = replace(
                held, state=state, next_attempt_at=next_attempt_at, last_status_code=outcome.status_code,
                last_error=outcome.error, last_attempt_at=now, series_started_at=delivery.series_started_at or now,
                attempts=held.attempts + 1, series_attempts=held.series_attempts + 1)

    def cancel(self, delivery: Delivery, why: str, now: datetime) -> None:
        with self._lock:
            held = self.deliveries.get(delivery.id)
            if held is not None and held.state == PENDING:
                self.deliveries[delivery.id] = replace(held, state=CANCELLED, next_attempt_at=None, last_error=why,
                                                       last_attempt_at=now)

    def cancel_pending_of(self, endpoint_id: str, why: str, now: datetime) -> int:
        with self._lock:
            pending = [d for d in self.deliveries.values() if d.endpoint_id == endpoint_id and d.state == PENDING]
            for held in pending:
                self.deliveries[held.id] = replace(held, state=CANCELLED, next_attempt_at=None, last_error=why)
            return len(pending)
