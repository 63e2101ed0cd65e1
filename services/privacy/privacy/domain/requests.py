"""A privacy request (issue 13): one person's data exported (access, portability) or erased across every service
holding personal data, tracked from receipt to completion.

Receiving a request records `PrivacyRequestReceived` (requester and reason sealed under the request's own key)
and, at once, the question every service answers: `SubjectExportRequested` or `ErasureRequested` (the
published contract, recorded on this aggregate so that the outbox publishes it on privacy.events). Each
service's reply is recorded once; when every service asked has answered, the request completes (an export
first gets its ZIP). Past the reply timeout it completes `partially_completed`, naming the services that did not
answer; a later reply is still recorded and upgrades it to `completed`.
"""
from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.contracts.privacy import ErasureRequested, SubjectExportRequested
from crm_platform.errors import Conflict, CrmError, InvalidInput, NotFound

ACCESS, PORTABILITY, ERASURE = "access", "portability", "erasure"
REQUEST_TYPES = (ACCESS, PORTABILITY, ERASURE)
EXPORT_TYPES = (ACCESS, PORTABILITY)
RECEIVED, IN_PROGRESS, COMPLETED, PARTIALLY_COMPLETED, REJECTED = (
    "received", "in_progress", "completed", "partially_completed", "rejected")
STATUSES = (RECEIVED, IN_PROGRESS, COMPLETED, PARTIALLY_COMPLETED, REJECTED)
ENDED = (COMPLETED, PARTIALLY_COMPLETED, REJECTED)
REQUEST_SUBJECT = "privacy-request:{request_id}"


class PrivacyRequestNotFound(NotFound):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"privacy request {request_id} does not exist in this account", request_id=request_id)


class ExportNotReady(Conflict):
    slug = "export-not-ready"


class ExportGone(CrmError):
    status = 410
    title = "Gone"
    slug = "export-expired"


class CertificateNotReady(Conflict):
    slug = "certificate-not-ready"


class PrivacyRequestEvent(DomainEvent):
    aggregate_id_field = "request_id"


@dataclass(frozen=True)
class PrivacyRequestReceived(PrivacyRequestEvent):
    personal_fields = ("requester", "reason")
    data_subject = REQUEST_SUBJECT

    request_id: str
    account_id: str
    type: str
    contact_id: str  # the data subject, as the requester named them
    requester: str
    reason: str
    received_at: str  # ISO, UTC
    deadline: str  # ISO, UTC: one calendar month after receipt (GDPR Art. 12(3))


@dataclass(frozen=True)
class ReplyRecorded(PrivacyRequestEvent):
    request_id: str
    account_id: str
    service: str
    reply: dict  # the reply's payload as the service published it (no personal data: ids, counts, dates)
    answered_at: str  # ISO, UTC: when privacy recorded it


@dataclass(frozen=True)
class ExportReady(PrivacyRequestEvent):
    request_id: str
    account_id: str
    blob_id: str  # the ZIP in the exchange store, sealed under privacy-export:<request id>
    size: int
    expires_at: str  # ISO, UTC


@dataclass(frozen=True)
class ExportExpired(PrivacyRequestEvent):
    request_id: str
    account_id: str
    expired_at: str


@dataclass(frozen=True)
class PrivacyRequestCompleted(PrivacyRequestEvent):
    request_id: str
    account_id: str
    status: str  # completed or partially_completed
    missing_services: list
    completed_at: str


OWN_EVENT_CLASSES = (PrivacyRequestReceived, ReplyRecorded, ExportReady, ExportExpired, PrivacyRequestCompleted)


def one_month_after(moment: datetime) -> datetime:
    """The same time one calendar month later, on the month's last day when it is shorter (31 Jan -> 28/29 Feb)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass
class ExportState:
    blob_id: str
    size: int
    expires_at: str
    expired: bool = False
    earlier_blob_ids: list = field(default_factory=list)  # ZIPs assembled before this one (a late reply's)


class PrivacyRequest(Aggregate):
    aggregate_type = "PrivacyRequest"
    event_classes = (*OWN_EVENT_CLASSES, SubjectExportRequested, ErasureRequested)
    not_found_error = PrivacyRequestNotFound

    def __init__(self, request_id: str, account_id: str) -> None:
        super().__init__(request_id, account_id)
        self.type = ""
        self.status = RECEIVED
        self.contact_id = ""
        self.requester = ""
        self.reason = ""
        self.received_at = ""
        self.deadline = ""
        self.contact_ids: list[str] = []
        self.services: list[str] = []
        self.requested_at: str | None = None
        self.replies: dict[str, dict] = {}  # service -> its reply's payload and answered_at
        self.export: ExportState | None = None
        self.completed_at: str | None = None
        self.missing_services: list[str] = []

    @classmethod
    def receive(cls, account_id: str, type: str, contact_id: str, requester: str, reason: str, *,
                family: list[str], services: list[str], now: datetime, request_id: str | None = None
                ) -> "PrivacyRequest":
        """A new request, and at once the question to every service holding personal data."""
        if type not in REQUEST_TYPES:
            raise InvalidInput("unknown request type", errors={"type": [f"one of {', '.join(REQUEST_TYPES)}"]})
        if not services:
            raise InvalidInput("no service holds personal data to ask", errors={"type": ["no service to ask"]})
        request = cls(request_id or f"privacy-request:{uuid.uuid4().hex}", account_id)
        at = now.isoformat()
        request._record(PrivacyRequestReceived(request.id, account_id, type, contact_id, requester, reason, at,
                                               one_month_after(now).isoformat()))
        contact_ids = list(dict.fromkeys([contact_id, *family]))
        asking = SubjectExportRequested if type in EXPORT_TYPES else ErasureRequested
        request._record(asking(request.id, account_id, contact_ids, list(services), at))
        return request

    @property
    def is_export(self) -> bool:
        return self.type in EXPORT_TYPES

    @property
    def unanswered(self) -> list[str]:
        return [service for service in self.services if service not in self.replies]

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    def record_reply(self, service: str, reply: dict, now: datetime) -> bool:
        """Keep a service's reply; False (nothing recorded) if it was not asked or has answered already."""
        if service not in self.services or service in self.replies or self.status == REJECTED:
            return False
        self._record(ReplyRecorded(self.id, self.account_id, service, dict(reply), now.isoformat()))
        return True

    def export_ready(self, blob_id: str, size: int, expires_at: datetime) -> None:
        self._record(ExportReady(self.id, self.account_id, blob_id, size, expires_at.isoformat()))

    def complete(self, now: datetime) -> None:
        """Completed if every service answered, else partially completed naming the others; an upgrade only."""
        missing = self.unanswered
        status = PARTIALLY_COMPLETED if missing else COMPLETED
        if self.status == status or self.status in (COMPLETED, REJECTED):
            return
        self._record(PrivacyRequestCompleted(self.id, self.account_id, status, missing, now.isoformat()))

    def timed_out(self, now: datetime, timeout) -> bool:
        """Still waiting for replies `timeout` after it asked."""
        return (self.status == IN_PROGRESS and self.requested_at is not None
                and datetime.fromisoformat(self.requested_at) + timeout <= now)

    def expire_export(self, now: datetime) -> list[str]:
        """Mark the export expired; the blob ids to discard (the ZIPs and every part), empty if nothing to do."""
        if self.export is None or self.export.expired:
            return []
        blobs = [*self.export.earlier_blob_ids, self.export.blob_id, *self.part_blob_ids]
        self._record(ExportExpired(self.id, self.account_id, now.isoformat()))
        return blobs

    @property
    def part_blob_ids(self) -> list[str]:
        return [reply["part_blob_id"] for reply in self.replies.values() if reply.get("part_blob_id")]

    def parts(self) -> dict[str, str | None]:
        """Each answering service's export part (None: it holds nothing of the subject)."""
        return {service: reply.get("part_blob_id") for service, reply in self.replies.items()}

    def _apply(self, event: DomainEvent) -> None:
        if isinstance(event, PrivacyRequestReceived):
            self.type, self.contact_id, self.requester, self.reason = (
                event.type, event.contact_id, event.requester, event.reason)
            self.received_at, self.deadline, self.status = event.received_at, event.deadline, RECEIVED
        elif isinstance(event, (SubjectExportRequested, ErasureRequested)):
            self.contact_ids, self.services = list(event.contact_ids), list(event.services)
            self.requested_at, self.status = event.requested_at, IN_PROGRESS
        elif isinstance(event, ReplyRecorded):
            self.replies[event.service] = {**event.reply, "answered_at": event.answered_at}
        elif isinstance(event, ExportReady):
            earlier = [] if self.export is None else [*self.export.earlier_blob_ids, self.export.blob_id]
            self.export = ExportState(event.blob_id, event.size, event.expires_at, earlier_blob_ids=earlier)
        elif isinstance(event, ExportExpired):
            if self.export is not None:
                self.export.expired = True
        elif isinstance(event, PrivacyRequestCompleted):
            self.status, self.missing_services, self.completed_at = (
                event.status, list(event.missing_services), event.completed_at)
