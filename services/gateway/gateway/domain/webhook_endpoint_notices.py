"""The notice that an endpoint was disabled: a `webhook_endpoint.disabled` event, sent to the account's other
enabled endpoints subscribed to it, as Svix's operational webhooks and Stripe do.

Its id is made from the endpoint's id and the moment the endpoint was last enabled (`enabled_since`: registered,
or turned back on), not from the moment of the disabling: every worker that disables the endpoint in that period
makes the same id, however many of them believe they did (a compare-and-set is not atomic on FerretDB), so the
deliveries' ids coincide and the notice is recorded once per disabling. Its data names the endpoint by id only:
its URL and description are the account's text, which may hold anything.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from gateway.domain.webhook_events import ENDPOINT_DISABLED

_NAMESPACE = uuid.UUID("7d2f3c1e-5a4b-4c8e-9f0a-1b2c3d4e5f60")  # fixed: ids made again must be the same


def disabled_notice_id(endpoint_id: str, enabled_since: datetime) -> str:
    """The notice's event id (a UUID, as published events' ids): one per endpoint and enabled period."""
    return str(uuid.uuid5(_NAMESPACE, f"{endpoint_id}:{_milliseconds(enabled_since)}"))


def disabled_notice(event_id: str, *, account_id: str, endpoint_id: str, reason: str, disabled_at: datetime,
                    failing_since: datetime | None, failed_deliveries: int) -> dict:
    """The body sent to receivers, shaped as every event's (domain.webhook_events.thin_payload)."""
    return {"id": event_id, "type": ENDPOINT_DISABLED, "timestamp": _iso(disabled_at), "account_id": account_id,
            "data": {"endpoint_id": endpoint_id, "reason": reason, "disabled_at": _iso(disabled_at),
                     "failing_since": _iso(failing_since) if failing_since else None,
                     "failed_deliveries": failed_deliveries}}


def _utc(moment: datetime) -> datetime:
    # MongoDB gives back naive UTC datetimes unless told otherwise: the same moment either way
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _milliseconds(moment: datetime) -> int:
    # what MongoDB keeps of a datetime: the id made from a stored one equals the id made from the one written
    return int(_utc(moment).replace(microsecond=0).timestamp()) * 1000 + moment.microsecond // 1000


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat().replace("+00:00", "Z")
