"""privacy.events' restriction events as privacy publishes them, for a service's tests of its privacy handler."""
from __future__ import annotations

from crm_platform.contracts.privacy import (
    PRIVACY_REQUEST_AGGREGATE_TYPE, ProcessingRestrictionApplied, ProcessingRestrictionLifted,
)
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec

AT = "2026-12-02T12:00:00+00:00"
_CODEC = EventCodec((ProcessingRestrictionApplied, ProcessingRestrictionLifted))


def restriction_applied(account_id: str, contact_ids: list[str], services: list[str],
                        request_id: str = "privacy-request:r18") -> EventEnvelope:
    event = ProcessingRestrictionApplied(request_id, account_id, list(contact_ids), list(services), AT)
    return _CODEC.to_envelope(event, PRIVACY_REQUEST_AGGREGATE_TYPE, request_id, 2, account_id)


def restriction_lifted(account_id: str, contact_ids: list[str],
                       request_id: str = "privacy-request:r18") -> EventEnvelope:
    event = ProcessingRestrictionLifted(request_id, account_id, list(contact_ids), AT)
    return _CODEC.to_envelope(event, PRIVACY_REQUEST_AGGREGATE_TYPE, request_id, 9, account_id)
