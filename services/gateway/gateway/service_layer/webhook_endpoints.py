"""What an account does with its webhook endpoints: register, change, rotate the secret, delete, redeliver.

Every handler takes the caller's account: another account's endpoint is not found, as an unknown one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from crm_platform.errors import InvalidInput, NotFound

from gateway.adapters.webhook_deliveries import Delivery, MongoWebhookDeliveries
from gateway.adapters.webhook_endpoints import Endpoint, MongoWebhookEndpoints
from gateway.domain.webhook_endpoints import (
    PREVIOUS_SECRET_KEPT, SigningSecret, new_endpoint_id, new_secret, rotated, target_of, url_problem)
from gateway.domain.webhook_events import unknown_types
from gateway.domain.webhook_targets import ForbiddenTarget, allowed_addresses

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class WebhookPorts:
    endpoints: MongoWebhookEndpoints
    deliveries: MongoWebhookDeliveries
    resolver: Resolver
    allow_private_targets: bool
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


@dataclass(frozen=True)
class RegisterEndpoint:
    account_id: str
    url: str
    events: list[str]
    description: str = ""


def register(command: RegisterEndpoint, ports: WebhookPorts) -> tuple[Endpoint, str]:
    """The new endpoint, enabled, and its secret (shown this once)."""
    check_target(command.url, ports)
    check_events(command.events)
    now, secret = ports.clock(), new_secret()
    endpoint = Endpoint(id=new_endpoint_id(), account_id=command.account_id, url=command.url,
                        events=list(dict.fromkeys(command.events)), description=command.description, enabled=True,
                        created_at=now, updated_at=now, secrets=[SigningSecret(secret)])
    ports.endpoints.add(endpoint)
    return endpoint, secret


def update(account_id: str, endpoint_id: str, changes: dict, ports: WebhookPorts) -> Endpoint:
    """Change url, events, description or enabled; enabling an endpoint again forgets its failures."""
    if "url" in changes:
        check_target(changes["url"], ports)
    if "events" in changes:
        check_events(changes["events"])
        changes = {**changes, "events": list(dict.fromkeys(changes["events"]))}
    now = ports.clock()
    if changes.get("enabled") is True:  # a new enabled period: its disabling will be a new notice
        changes = {**changes, "disabled_reason": None, "disabled_at": None, "failing_since": None,
                   "failed_deliveries": 0, "enabled_since": now, "disabled_notice_pending": False}
    endpoint = ports.endpoints.update(account_id, endpoint_id, {**changes, "updated_at": now})
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def rotate_secret(account_id: str, endpoint_id: str, ports: WebhookPorts) -> tuple[str, datetime]:
    """A new secret (shown this once), and until when the previous one keeps signing beside it."""
    while True:
        endpoint = get(account_id, endpoint_id, ports)
        now = ports.clock()
        fresh, kept = rotated(endpoint.secrets, now)
        if ports.endpoints.replace_secrets(endpoint, kept, now):
            return fresh, now + PREVIOUS_SECRET_KEPT
        # changed since it was read (another rotation at the same moment): rotate it as it is now, or the other
        # rotation's secret would be dropped unused


def delete(account_id: str, endpoint_id: str, ports: WebhookPorts) -> None:
    """Delete the endpoint; what was pending for it is cancelled (the worker would skip it anyway)."""
    if not ports.endpoints.remove(account_id, endpoint_id):
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    ports.deliveries.cancel_pending_of(endpoint_id, "endpoint deleted", ports.clock())


def get(account_id: str, endpoint_id: str, ports: WebhookPorts) -> Endpoint:
    endpoint = ports.endpoints.get(account_id, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def deliveries(account_id: str, endpoint_id: str, limit: int, cursor: str | None,
               ports: WebhookPorts) -> tuple[list[Delivery], str | None]:
    get(account_id, endpoint_id, ports)
    return ports.deliveries.page(account_id, endpoint_id, limit, cursor)


def delivery(account_id: str, endpoint_id: str, delivery_id: str, ports: WebhookPorts) -> tuple[Delivery, list[dict]]:
    """A delivery of the account's endpoint and its latest attempts (NotFound naming the endpoint or the delivery)."""
    get(account_id, endpoint_id, ports)
    found = ports.deliveries.get(account_id, endpoint_id, delivery_id)
    if found is None:
        raise NotFound(f"no delivery {delivery_id} of webhook endpoint {endpoint_id}")
    return found


def redeliver(account_id: str, endpoint_id: str, delivery_id: str, ports: WebhookPorts) -> Delivery:
    """Send a delivery again, now, with a new series of retries (one that is pending already goes on as it is)."""
    endpoint = get(account_id, endpoint_id, ports)
    if not endpoint.enabled:
        raise InvalidInput("the endpoint is disabled; enable it first (PATCH enabled: true)",
                           errors={"enabled": ["the endpoint is disabled"]})
    delivery = ports.deliveries.redeliver(account_id, endpoint_id, delivery_id, ports.clock())
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id} of webhook endpoint {endpoint_id}")
    return delivery


def check_target(url: str, ports: WebhookPorts) -> None:
    """422 naming `url` unless it is a valid http(s) URL whose host resolves to allowed addresses."""
    problem = url_problem(url)
    if problem is None:
        try:
            allowed_addresses(ports.resolver(*target_of(url)), ports.allow_private_targets)
        except ForbiddenTarget as exc:
            problem = str(exc)
    if problem:
        raise InvalidInput(f"url: {problem}", errors={"url": [problem]})


def check_events(events: list[str]) -> None:
    unknown = unknown_types(events)
    if unknown:
        raise InvalidInput(f"events: unknown event types {', '.join(unknown)}; see docs/webhooks.md",
                           errors={"events": [f"unknown event type: {name}" for name in unknown]})
