"""The webhook consumer: each published event that has a public type becomes one pending delivery per enabled
endpoint of its account subscribed to that type.

Idempotent: a delivery's _id is made from the event's and the endpoint's ids, so an event consumed again inserts
nothing new. The body is made here, once, and stored as it will be signed and sent.

The endpoints are read once per polled batch, for the accounts of its events (`batch`, the consumer's batch
context), not once per event: on FerretDB every statement is its own round trip, and most events are of accounts
without endpoints. An endpoint registered after that read misses none of the batch's events: they all happened
before it was polled, so before the endpoint existed.
"""
from __future__ import annotations

import contextlib
import json
import logging
from typing import Iterator

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.envelope import EventEnvelope

from gateway.adapters.webhook_endpoints import Endpoint
from gateway.domain.webhook_deliveries import delivery_id
from gateway.domain.webhook_events import (
    ERASURE_COMPLETED, PRIVACY_REQUEST_KINDS, public_event_of, subscribed, thin_payload)
from gateway.service_layer.webhook_endpoints import WebhookPorts

log = logging.getLogger(__name__)


class WebhookFanOut:
    def __init__(self, ports: WebhookPorts, privacy_request_kinds: Collection) -> None:
        self._ports = ports
        self._request_kinds = privacy_request_kinds  # request id -> erasure / export (no personal data)
        self._batch_endpoints: dict[str, list[Endpoint]] | None = None  # account -> enabled endpoints, in a batch

    @contextlib.contextmanager
    def batch(self, envelopes: list[EventEnvelope]) -> Iterator[None]:
        """Around a polled batch: the enabled endpoints of the accounts of its public events, read in one statement."""
        accounts = {envelope.account_id for envelope in envelopes if public_event_of(envelope.event_type)}
        self._batch_endpoints = self._ports.endpoints.enabled_of_accounts(accounts) if accounts else {}
        try:
            yield
        finally:
            self._batch_endpoints = None

    def handle(self, envelope: EventEnvelope) -> None:
        if envelope.event_type in PRIVACY_REQUEST_KINDS:
            self._remember_request_kind(envelope.aggregate_id, PRIVACY_REQUEST_KINDS[envelope.event_type])
        public = public_event_of(envelope.event_type)
        if public is None or (public.type == ERASURE_COMPLETED and not self._is_erasure(envelope.aggregate_id)):
            return
        # an event from before an endpoint existed is not its (a consumer catching up, a group replaying a topic)
        endpoints = [endpoint for endpoint in self._enabled_endpoints(envelope.account_id)
                     if subscribed(endpoint.events, public.type) and endpoint.created_at <= envelope.occurred_at]
        if not endpoints:
            return
        body = json.dumps(thin_payload(public, event_id=envelope.event_id, occurred_at=envelope.occurred_at,
                                       account_id=envelope.account_id, aggregate_id=envelope.aggregate_id,
                                       payload=envelope.payload), separators=(",", ":"), ensure_ascii=False)
        now = self._ports.clock()
        for endpoint in endpoints:
            self._ports.deliveries.add(delivery_id(envelope.event_id, endpoint.id), account_id=envelope.account_id,
                                       endpoint_id=endpoint.id, event_id=envelope.event_id, event_type=public.type,
                                       body=body, now=now)

    def _enabled_endpoints(self, account_id: str) -> list[Endpoint]:
        if self._batch_endpoints is not None:
            return self._batch_endpoints.get(account_id, [])
        return self._ports.endpoints.enabled_of_account(account_id)  # handled alone (outside a polled batch)

    def _remember_request_kind(self, request_id: str, kind: str) -> None:
        try:
            self._request_kinds.insert_one({"_id": request_id, "kind": kind})
        except DuplicateKeyError:
            pass

    def _is_erasure(self, request_id: str) -> bool:
        known = self._request_kinds.find_one({"_id": request_id})
        return known is not None and known["kind"] == "erasure"
