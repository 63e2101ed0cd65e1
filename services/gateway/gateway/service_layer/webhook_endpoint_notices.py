"""Telling an account that one of its endpoints was disabled: a `webhook_endpoint.disabled` delivery to each of its
other enabled endpoints subscribed to that type (or to `*`), sent, signed, retried and logged as every delivery.

The disabling itself records that a notice is owed (in the same write: FerretDB has no multi-document
transaction), the notice's deliveries are inserted next, and only then is the debt cleared: a worker stopping in
between leaves it owed, and the worker's `webhook-notice-sweep` queues it. Queuing it twice inserts nothing new:
a delivery's _id is the notice's id and the endpoint's, and the notice's id is the same for every worker that
disables the endpoint in one enabled period (domain.webhook_endpoint_notices).
"""
from __future__ import annotations

import json
from datetime import datetime

from crm_platform.worker_runtime import Loop, every

from gateway.adapters.webhook_endpoints import Endpoint
from gateway.domain.webhook_deliveries import delivery_id
from gateway.domain.webhook_endpoint_notices import disabled_notice, disabled_notice_id
from gateway.domain.webhook_events import ENDPOINT_DISABLED, subscribed
from gateway.service_layer.webhook_endpoints import WebhookPorts


def queue_disabled_notice(endpoint: Endpoint, reason: str, disabled_at: datetime, ports: WebhookPorts) -> int:
    """Queue the notice that `endpoint` (as it was when disabled) was disabled at `disabled_at` for `reason`, and
    clear its debt; how many deliveries this call inserted."""
    event_id = disabled_notice_id(endpoint.id, endpoint.enabled_since or endpoint.created_at)
    body = json.dumps(disabled_notice(event_id, account_id=endpoint.account_id, endpoint_id=endpoint.id,
                                      reason=reason, disabled_at=disabled_at, failing_since=endpoint.failing_since,
                                      failed_deliveries=endpoint.failed_deliveries),
                      separators=(",", ":"), ensure_ascii=False)
    now, queued = ports.clock(), 0
    for other in ports.endpoints.enabled_of_account(endpoint.account_id):
        if other.id != endpoint.id and subscribed(other.events, ENDPOINT_DISABLED):
            queued += ports.deliveries.add(delivery_id(event_id, other.id), account_id=endpoint.account_id,
                                           endpoint_id=other.id, event_id=event_id, event_type=ENDPOINT_DISABLED,
                                           body=body, now=now)
    ports.endpoints.notice_queued(endpoint.id, disabled_at)
    return queued


def queue_owed_notices(ports: WebhookPorts) -> int:
    """Queue the notices a stopped worker owes; how many deliveries were inserted."""
    return sum(queue_disabled_notice(endpoint, endpoint.disabled_reason or "", endpoint.disabled_at, ports)
               for endpoint in ports.endpoints.owing_a_notice() if endpoint.disabled_at is not None)


def owed_notices_loop(ports: WebhookPorts, every_s: float = 60.0) -> Loop:
    """The worker's sweep of the notices left owed: at start, then every minute."""
    return every(every_s, lambda: queue_owed_notices(ports), "queuing owed notices of disabled webhook endpoints")
