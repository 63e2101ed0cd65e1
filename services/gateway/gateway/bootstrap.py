"""The only place that builds real adapters for the gateway (lazily, per process)."""
from __future__ import annotations

import hashlib
import hmac
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cached_property
from typing import Callable

from crm_platform.event_consumer import EventConsumer
from crm_platform.leases import Lease
from crm_platform.mongo import MongoConnection
from crm_platform.service_container import ServiceContainer

from gateway import config
from gateway.adapters.accounts import AccountDirectory, utc_now
from gateway.adapters.idempotency_records import MongoIdempotencyRecords
from gateway.adapters.rate_limit_counters import MongoRateLimitCounters
from gateway.adapters.upstream import UpstreamClient
from gateway.adapters.webhook_deliveries import MongoWebhookDeliveries
from gateway.adapters.webhook_endpoints import MongoWebhookEndpoints
from gateway.adapters.webhook_sender import WebhookSender, resolve
from gateway.domain.rate_limits import Limits
from gateway.domain.webhook_deliveries import DisablePolicy, RetrySchedule
from gateway.service_layer.rate_limiting import RateLimiter
from gateway.service_layer.unit_of_work import UnitOfWork
from gateway.service_layer.webhook_delivery import DeliveryLoop
from gateway.service_layer.webhook_endpoints import WebhookPorts
from gateway.service_layer.webhook_fan_out import WebhookFanOut

# Beyond the longest upstream call, for reading the body and writing the record around it.
IN_FLIGHT_MARGIN = timedelta(seconds=5)


class Container(ServiceContainer):
    service_name = config.SERVICE_NAME
    database_setting = "GATEWAY_DB"
    events_topic_name = config.EVENTS_TOPIC

    def __init__(self, settings: dict) -> None:
        super().__init__(settings)
        self.clock = utc_now  # of API keys' lives (expiry, rotation, last use); tests move it
        self.upstreams = config.services(settings)  # service name -> base URL
        self.routes = config.ROUTES  # first path segment under /v1/ -> service name
        self.job_services = config.JOB_SERVICES  # asked in turn for /v1/jobs/{id}
        self.timeline_services = config.TIMELINE_SERVICES  # asked together for a contact's timeline
        self.webhook_resolver = resolve  # host -> addresses, for the SSRF checks (a test may name its own)
        self.upstream_client = UpstreamClient(settings["INTERNAL_TOKEN"], settings["UPSTREAM_TIMEOUT_S"])
        self._section_pool: tuple[int, ThreadPoolExecutor] | None = None
        self._section_pool_lock = threading.Lock()
        # A client of its own, with timeouts of its own: a counter answers in milliseconds or is skipped
        # (RATE_LIMIT_TIMEOUT_MS), where the other statements may wait MONGO_SERVER_SELECTION_TIMEOUT_MS and more.
        timeout_ms = settings["RATE_LIMIT_TIMEOUT_MS"]
        self.rate_limit_mongo = MongoConnection(settings["MONGO_URI"], f"{config.SERVICE_NAME}-rate-limits",
                                                server_selection_timeout_ms=timeout_ms, connect_timeout_ms=timeout_ms,
                                                socket_timeout_ms=timeout_ms)

    @property
    def accounts(self) -> AccountDirectory:
        return AccountDirectory(self.db, UnitOfWork(self.event_store), self.clock)

    @property
    def idempotency_records(self) -> MongoIdempotencyRecords:
        return MongoIdempotencyRecords(self.db["idempotency_records"])

    @property
    def rate_limit_counters(self) -> MongoRateLimitCounters:
        """The counters for the worker's sweep and the indexes (the main client: those may take their time)."""
        return MongoRateLimitCounters(self.mongo, self.settings["GATEWAY_DB"])

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """One per process: it remembers that the counters failed, so that an outage is not met on every request."""
        limits = Limits.per_second_and_minute(
            self.settings["RATE_LIMIT_KEY_PER_SECOND"], self.settings["RATE_LIMIT_KEY_PER_MINUTE"],
            self.settings["RATE_LIMIT_ACCOUNT_PER_MINUTE"], self.settings["RATE_LIMIT_AUTH_FAILURES_PER_MINUTE"])
        secret = hmac.new(self.settings["INTERNAL_TOKEN"].encode(), b"crm-gateway client addresses v1",
                          hashlib.sha256).digest()
        return RateLimiter(MongoRateLimitCounters(self.rate_limit_mongo, self.settings["GATEWAY_DB"]), limits, secret)

    @cached_property
    def idempotency_secret(self) -> bytes:
        """The HMAC key of idempotency records, derived from INTERNAL_TOKEN (never stored; every service holds it)."""
        return hmac.new(self.settings["INTERNAL_TOKEN"].encode(), b"crm-gateway idempotency records v1",
                        hashlib.sha256).digest()

    @property
    def section_pool(self) -> ThreadPoolExecutor:
        """The threads that read the sections of aggregated contact reads: one pool per process, shared by its
        requests (each thread keeps its pooled connections: UpstreamClient holds a session per thread)."""
        with self._section_pool_lock:
            if self._section_pool is None or self._section_pool[0] != os.getpid():  # threads do not survive a fork
                pool = ThreadPoolExecutor(self.settings["CONTACT_SECTION_THREADS"], thread_name_prefix="contact-section")
                self._section_pool = (os.getpid(), pool)
            return self._section_pool[1]

    @property
    def in_flight_stale_after(self) -> timedelta:
        """How long a request can run: a record in flight for longer was left by a process that died."""
        return timedelta(seconds=self.upstream_client.longest_call_s) + IN_FLIGHT_MARGIN

    @property
    def webhooks(self) -> WebhookPorts:
        return WebhookPorts(MongoWebhookEndpoints(self.db), MongoWebhookDeliveries(self.db), self.webhook_resolver,
                            self.settings["WEBHOOK_ALLOW_PRIVATE_TARGETS"])

    def webhook_fan_out_loop(self, **options) -> EventConsumer:
        """The worker's consumer of the published topics (group gateway.webhooks), making deliveries."""
        topics = [self.topic(name) for name in config.WEBHOOK_TOPICS]
        fan_out = WebhookFanOut(self.webhooks, self.db["webhook_privacy_requests"])
        return EventConsumer(f"{self.service_name}.webhooks", lambda: self.consumer("webhooks", *topics),
                             self.producer, fan_out.handle, batch_context=fan_out.batch, **options)

    def webhook_delivery_loop(self, schedule: RetrySchedule | None = None, **options) -> DeliveryLoop:
        """The worker's sender of due deliveries, under the lease `webhook-delivery` (retrying as
        WEBHOOK_RETRY_DELAYS_S says unless given a schedule)."""
        schedule = schedule or RetrySchedule(config.webhook_retry_delays(self.settings))
        sender = WebhookSender(self.settings["WEBHOOK_TIMEOUT_S"], self.settings["WEBHOOK_ALLOW_PRIVATE_TARGETS"],
                               self.webhook_resolver)
        policy = DisablePolicy(timedelta(days=self.settings["WEBHOOK_DISABLE_AFTER_DAYS"]),
                               self.settings["WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES"])
        # a term of 60 s: a round (one send, up to its connect and read timeouts) fits in half of one
        lease = Lease(self.db["leases"], "webhook-delivery", ttl=timedelta(seconds=60))
        return DeliveryLoop(self.webhooks, sender, lease, schedule, policy,
                            concurrency=self.settings["WEBHOOK_CONCURRENCY"], **options)

    def upstream_answers(self, name: str) -> Callable[[], bool]:
        def check() -> bool:
            try:
                return self.upstream_client.call(name, "GET", f"{self.upstreams[name]}/healthz", {}).ok
            except Exception:  # any failure means "not answering" for a readiness report
                return False

        return check

    def ensure_indexes(self) -> None:
        super().ensure_indexes()
        self.accounts.ensure_indexes()
        self.idempotency_records.ensure_indexes()
        self.rate_limit_counters.ensure_indexes()
        self.webhooks.endpoints.ensure_indexes()
        self.webhooks.deliveries.ensure_indexes()
