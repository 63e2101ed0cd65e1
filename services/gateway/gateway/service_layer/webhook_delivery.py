"""The webhook delivery loop: under a lease (one sender in the whole system), send the due deliveries, record
each attempt, schedule the next one or give up, and disable an endpoint that keeps failing (and tell the account,
service_layer.webhook_endpoint_notices).

An endpoint deleted or disabled gets nothing more: its due deliveries are cancelled instead of sent.
Logs name endpoints, deliveries and event types: never a URL, a body or a receiver's answer.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from crm_platform.event_consumer import described_error
from crm_platform.leases import Lease
from crm_platform.liveness import still_working
from crm_platform.worker_runtime import Loop, every

from gateway.adapters.webhook_deliveries import Delivery, MongoWebhookDeliveries
from gateway.adapters.webhook_endpoints import Endpoint
from gateway.adapters.webhook_sender import WebhookSender
from gateway.domain.webhook_deliveries import (
    DELIVERED, FAILED, PENDING, DisablePolicy, RetrySchedule, fair_share)
from gateway.domain.webhook_endpoints import signing_secrets
from gateway.service_layer.webhook_endpoint_notices import queue_disabled_notice
from gateway.service_layer.webhook_endpoints import WebhookPorts

log = logging.getLogger(__name__)
PER_ENDPOINT_IN_A_ROUND = 2
LOOK_AHEAD = 10  # due deliveries read per round, per send of the round: room to skip a backlogged endpoint's


class DeliveryLoop:
    """Rounds of up to `concurrency` deliveries sent at once, at most PER_ENDPOINT_IN_A_ROUND to one endpoint.

    A round lasts at most one send (a receiver's connect and read timeouts): shorter than half the lease's term,
    which it renews before each round, so that no other process takes the lease while this one sends.
    """

    def __init__(self, ports: WebhookPorts, sender: WebhookSender, lease: Lease,
                 schedule: RetrySchedule = RetrySchedule(), disable_policy: DisablePolicy = DisablePolicy(),
                 concurrency: int = 8, idle_s: float = 1.0) -> None:
        self._ports = ports
        self._sender = sender
        self._lease = lease
        self._schedule = schedule
        self._disable_policy = disable_policy
        self._concurrency = concurrency
        self._idle_s = idle_s
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook-send")

    def run(self, stop: threading.Event) -> None:
        """Send due deliveries until stopped; waits `idle_s` when there are none (or another process sends)."""
        try:
            while not stop.is_set():
                try:
                    sent = self.run_once()
                except Exception as exc:  # the loop must outlive a database outage: the next round tries again
                    log.warning("webhook delivery round failed; trying again", extra={"error": described_error(exc)})
                    sent = 0
                if not sent:
                    stop.wait(self._idle_s)
        finally:
            self._pool.shutdown(wait=True)

    def run_once(self) -> int:
        """Attempt one round of the deliveries due now, if this process holds the lease; how many were attempted."""
        if not self._lease.acquire_or_renew():
            return 0
        round_ = self._next_round()
        # the round's endpoints in one statement, not one per delivery (on FerretDB each is a statement of its own)
        endpoints = self._ports.endpoints.by_ids({delivery.endpoint_id for delivery in round_}) if round_ else {}
        for _ in self._pool.map(lambda delivery: self._attempt_logging_failures(
                delivery, endpoints.get(delivery.endpoint_id)), round_):
            still_working()
        return len(round_)

    def _next_round(self) -> list[Delivery]:
        """Up to `concurrency` due deliveries, at most PER_ENDPOINT_IN_A_ROUND of an endpoint; when the most overdue
        are all of a few endpoints (a backlog), the next due of the others are looked for past them."""
        now, window = self._ports.clock(), self._concurrency * LOOK_AHEAD
        due = self._ports.deliveries.due(now, window)
        round_ = fair_share(due, self._concurrency, PER_ENDPOINT_IN_A_ROUND)
        if len(round_) < self._concurrency and len(due) == window:
            taken = frozenset(delivery.endpoint_id for delivery in round_)
            others = self._ports.deliveries.due(now, window, but_for=taken)
            round_ += fair_share(others, self._concurrency - len(round_), PER_ENDPOINT_IN_A_ROUND)
        return round_

    def _attempt_logging_failures(self, delivery: Delivery, endpoint: Endpoint | None) -> None:
        try:
            self.attempt(delivery, endpoint)
        except Exception as exc:  # one delivery's database error must not lose the round's others
            log.warning("webhook delivery attempt not recorded; it is tried again", extra={
                "delivery_id": delivery.id, "error": described_error(exc)})

    def attempt(self, delivery: Delivery, endpoint: Endpoint | None) -> None:
        """Send the delivery to its endpoint (None: deleted), or cancel it if the endpoint is gone or disabled."""
        endpoints = self._ports.endpoints
        now = self._ports.clock()
        if endpoint is None or not endpoint.enabled:
            self._ports.deliveries.cancel(delivery, "endpoint deleted" if endpoint is None else "endpoint disabled", now)
            return
        outcome = self._sender.send(endpoint.url, delivery.event_id, now, delivery.body,
                                    signing_secrets(endpoint.secrets, now))
        done = self._ports.clock()
        if outcome.delivered:
            self._ports.deliveries.record_attempt(delivery, outcome, done, state=DELIVERED, next_attempt_at=None)
            if endpoint.failing_since is not None or endpoint.failed_deliveries:  # a healthy one: no write
                endpoints.note_success(endpoint.id)
            return
        next_at = self._schedule.next_attempt(delivery.series_attempts + 1, delivery.series_started_at or now, done)
        self._ports.deliveries.record_attempt(delivery, outcome, done, state=PENDING if next_at else FAILED,
                                              next_attempt_at=next_at)
        after = endpoints.note_failure(endpoint.id, now, delivery_failed=next_at is None,
                                       failing_already=endpoint.failing_since is not None)
        if next_at is None:
            log.warning("webhook delivery failed for good", extra={
                "endpoint_id": endpoint.id, "delivery_id": delivery.id, "event_type": delivery.event_type,
                "attempts": delivery.attempts + 1})
        self.disable_if_failing(after, done)

    def disable_if_failing(self, endpoint: Endpoint | None, now: datetime) -> None:
        """Disable the endpoint, as it is after its failure was noted, if the policy says so, and queue the notice
        to the account's other endpoints."""
        if endpoint is None or not endpoint.enabled:
            return
        now = now.replace(microsecond=now.microsecond - now.microsecond % 1000)  # as stored: the API shows the same
        reason = self._disable_policy.reason(endpoint.failing_since, endpoint.failed_deliveries, now)
        if reason and self._ports.endpoints.disable(endpoint.id, reason, now):
            cancelled = self._ports.deliveries.cancel_pending_of(endpoint.id, "endpoint disabled", now)
            log.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint.id,
                                                            "account_id": endpoint.account_id, "reason": reason,
                                                            "cancelled_deliveries": cancelled})
            try:
                notices = queue_disabled_notice(endpoint, reason, now, self._ports)
            except Exception as exc:  # the disabling stands; the notice stays owed on the endpoint for the sweep
                log.warning("webhook endpoint disabled notice not queued; the notice sweep queues it", extra={
                    "endpoint_id": endpoint.id, "error": described_error(exc)})
            else:
                log.info("webhook endpoint disabled notice queued", extra={"endpoint_id": endpoint.id,
                                                                           "notices_queued": notices})


def retention_loop(deliveries: MongoWebhookDeliveries, keep: timedelta, every_s: float = 3600.0) -> Loop:
    """The worker's hourly sweep of the delivery log: what is older than `keep` and not pending is forgotten."""
    return every(every_s, lambda: deliveries.delete_finished_before(datetime.now(timezone.utc) - keep),
                 "forgetting old webhook deliveries")
