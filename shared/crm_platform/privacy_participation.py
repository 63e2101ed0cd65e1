"""How a service holding personal data takes part in privacy requests (issue 13): one shape for every service.

The service's worker consumes `privacy.events` and hands each envelope to `PrivacyRequestHandler.handle`
(an EventConsumer handler). For a request naming this service, the handler asks the service's
`PrivacyParticipant` to export or erase, then records the reply (`SubjectDataExported` / `SubjectErased`) as
version 1 of aggregate `PrivacyReply` <request id> in the service's own event store: its outbox relay then
publishes it on the service's topic, where privacy reads it.

A restriction of processing (Art. 18) is the kernel's alone: the handler keeps the service's
`ProcessingRestrictions` projection (restricted on `ProcessingRestrictionApplied`, then the reply
`SubjectRestricted`; lifted on `ProcessingRestrictionLifted`; ended for contacts once they are erased), and the
service's command handlers refuse edits of a restricted contact.

Idempotent, as a follower must be: a request already answered (its reply stored) is skipped, so a redelivery
neither exports twice nor erases twice; a request interrupted between the work and the reply is done again
(each service's erasure is safe to repeat; an export writes a new part and the earlier one stays unlisted,
unreadable once the export's key is shredded). Two workers answering at once: the second reply is a
ConcurrencyConflict on version 1, which means answered.

Errors are the consumer's to sort (crm_platform.event_consumer): an outage is waited out; any other error
is retried a few times, then the request is dead-lettered for this service alone, without a reply, so other
accounts' requests go on. Privacy then times the request out into `partially_completed` naming this service,
and takes the reply when an operator replays the dead letter after the fix (dead_letters_cli).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Protocol

from crm_platform.contracts.privacy import (
    PRIVACY_REPLY_AGGREGATE_TYPE, PRIVACY_REPLY_CLASSES, RESTRICTED, ErasureRequested, ProcessingRestrictionApplied,
    ProcessingRestrictionLifted, SubjectDataExportedReply, SubjectErasedReply, SubjectExportRequested,
    SubjectRestrictedReply, SUBJECT_REQUEST_CLASSES,
)
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.event_store import ConcurrencyConflict, EventStore
from crm_platform.privacy_exchange import ExportExchange
from crm_platform.processing_restrictions import ProcessingRestrictions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetainedItem:
    item: str  # "kind:id", e.g. "invoice:<id>"
    legal_basis: str  # e.g. "Art. 17(3)(b) GDPR; Code de commerce L123-22 (10 years)"
    retain_until: str  # ISO date


@dataclass(frozen=True)
class ErasureOutcome:
    outcome: str  # crm_platform.contracts.privacy.ERASURE_OUTCOMES
    keys_destroyed: list[str] = field(default_factory=list)  # subject names of the keys shredded (ids only)
    retained: list[RetainedItem] = field(default_factory=list)
    items_erased: int = 0


@dataclass(frozen=True)
class ExportedPart:
    part_blob_id: str | None  # None: the service holds nothing of the subject
    item_count: int


class PrivacyParticipant(Protocol):
    def export(self, request: SubjectExportRequested, exchange: ExportExchange) -> ExportedPart: ...

    def erase(self, request: ErasureRequested) -> ErasureOutcome: ...


class PrivacyRequestHandler:
    """An EventConsumer handler for `privacy.events`: answers the requests naming `service`."""

    def __init__(self, service: str, participant: PrivacyParticipant, store: EventStore, exchange: ExportExchange,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 restrictions: ProcessingRestrictions | None = None) -> None:
        self._service = service
        self._restrictions = restrictions  # None: restriction requests go unanswered (privacy names the service)
        self._participant = participant
        self._store = store
        self._exchange = exchange
        self._now = now
        self._codec = EventCodec((*SUBJECT_REQUEST_CLASSES, ProcessingRestrictionLifted))
        self._replies = EventCodec(PRIVACY_REPLY_CLASSES)

    def handle(self, envelope: EventEnvelope) -> None:
        if not self._codec.knows(envelope.event_type):
            return  # privacy's other events
        # the codec holds the payload to privacy.events' contract (PayloadBreaksContract): a request whose
        # contact_ids were a text would otherwise restrict or erase its characters and reply as if done
        request = self._codec.from_envelope(envelope)
        if isinstance(request, ProcessingRestrictionLifted):
            if self._restrictions is not None:
                self._restrictions.lift(request.account_id, request.contact_ids, request.request_id)
            return
        if self._service not in request.services or self._store.head(request.request_id) is not None:
            return  # not asked, or answered already
        started = time.perf_counter()
        if isinstance(request, SubjectExportRequested):
            reply = self._export(request)
        elif isinstance(request, ErasureRequested):
            reply = self._erase(request)
        elif self._restrictions is not None:
            reply = self._restrict(request)
        else:
            return
        try:
            self._store.append([self._replies.to_envelope(reply, PRIVACY_REPLY_AGGREGATE_TYPE, request.request_id,
                                                          1, request.account_id)])
        except ConcurrencyConflict:
            pass  # another worker answered meanwhile
        # ids and durations only: where a request's time goes, service by service (issue 13's targets)
        log.info("privacy request answered", extra={
            "privacy_request": request.request_id, "answering": self._service,
            "request_type": type(request).event_type(),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})

    def _erase(self, request: ErasureRequested) -> SubjectErasedReply:
        outcome = self._participant.erase(request)
        if self._restrictions is not None:  # an erased person has nothing left to restrict
            self._restrictions.forget(request.account_id, request.contact_ids)
        return SubjectErasedReply(
            request.request_id, request.account_id, self._service, outcome.outcome, list(outcome.keys_destroyed),
            [{"item": r.item, "legal_basis": r.legal_basis, "retain_until": r.retain_until} for r in outcome.retained],
            outcome.items_erased, self._stamp())

    def _restrict(self, request: ProcessingRestrictionApplied) -> SubjectRestrictedReply:
        self._restrictions.restrict(request.account_id, request.contact_ids, request.request_id)
        return SubjectRestrictedReply(request.request_id, request.account_id, self._service, RESTRICTED,
                                      self._stamp())

    def _export(self, request: SubjectExportRequested) -> SubjectDataExportedReply:
        part = self._participant.export(request, self._exchange)
        return SubjectDataExportedReply(request.request_id, request.account_id, self._service, part.part_blob_id,
                                        part.item_count, self._stamp())

    def _stamp(self) -> str:
        return self._now().isoformat()

