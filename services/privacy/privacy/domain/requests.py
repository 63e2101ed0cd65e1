"""A privacy request (issue 13): one person's data exported (access, portability), erased, or its processing
restricted (Art. 18: every service refuses edits of the person until the restriction is lifted) across every
service holding personal data, tracked from receipt to completion.

Receiving a request records `PrivacyRequestReceived` (requester and reason sealed under the request's own key)
and, at once, the question every service answers: `SubjectExportRequested` or `ErasureRequested` (the
published contract, recorded on this aggregate so that the outbox publishes it on privacy.events). Each
service's reply is recorded once; when every service asked has answered, the request completes (an export
first gets its ZIP). A completed restriction is lifted once (`ProcessingRestrictionLifted`, published for the
services; lifting again changes nothing). Past the reply timeout it completes `partially_completed`, naming the services that did not
answer; a later reply is still recorded and upgrades it to `completed`.
"""
from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.contracts.privacy import (
    SUBJECT_REQUEST_CLASSES, ErasureRequested, PrivacyRequestEvent, ProcessingRestrictionApplied,
    ProcessingRestrictionLifted, SubjectDataExportedReply, SubjectErasedReply, SubjectExportRequested, SubjectRequest,
    SubjectRestrictedReply,
)
from crm_platform.errors import Conflict, CrmError, InvalidInput, NotFound

from privacy.domain.verification import (
    FAILED, MAX_PLACES, MAX_SCAN_ERRORS, NO_VALUES_KNOWN, PASSED, RESCANS_AFTER_FAILURE, UNVERIFIABLE,
    VERIFICATION_EVENT_CLASSES, VERIFICATION_FIELDS, ErasureScanFailed, ErasureVerified, ScanReport,
    SubjectValuesKept, SubjectValuesShredded,
)

ACCESS, PORTABILITY, ERASURE, RESTRICTION = "access", "portability", "erasure", "restriction"
REQUEST_TYPES = (ACCESS, PORTABILITY, ERASURE, RESTRICTION)
EXPORT_TYPES = (ACCESS, PORTABILITY)
RECEIVED, AWAITING_CONFIRMATION, IN_PROGRESS, COMPLETED, PARTIALLY_COMPLETED, REJECTED = (
    "received", "awaiting_confirmation", "in_progress", "completed", "partially_completed", "rejected")
STATUSES = (RECEIVED, AWAITING_CONFIRMATION, IN_PROGRESS, COMPLETED, PARTIALLY_COMPLETED, REJECTED)
# why a request was rejected: codes, never free text (which could hold personal data)
NO_MATCHING_CONTACT, NOT_THE_SUBJECT, IDENTITY_NOT_VERIFIED = (
    "no_matching_contact", "not_the_subject", "identity_not_verified")
REJECTIONS = (NO_MATCHING_CONTACT, NOT_THE_SUBJECT, IDENTITY_NOT_VERIFIED)  # staff's
NOT_CONFIRMED_BY_DEADLINE = "not_confirmed_by_deadline"  # the worker's: nobody confirmed the subject in time
ENDED = (COMPLETED, PARTIALLY_COMPLETED, REJECTED)
# an export's ZIP tried this many times (a reply's step, then the sweep's rounds) before it completes without the
# parts that cannot be read; a late reply brings new data, so it earns as many attempts again
ASSEMBLY_ATTEMPTS = 3
# why an assembly failed: codes, never the error's text (which could quote stored values)
UNREADABLE, EXPORT_ERASED = "unreadable", "export_erased"
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


class RequestWasRejected(Conflict):
    slug = "request-rejected"


class NotLiftable(Conflict):
    slug = "not-liftable"


@dataclass(frozen=True)
class PrivacyRequestReceived(PrivacyRequestEvent):
    personal_fields = ("requester", "reason", "email", "phone")
    data_subject = REQUEST_SUBJECT

    request_id: str
    account_id: str
    type: str
    requester: str
    reason: str
    received_at: str  # ISO, UTC
    deadline: str  # ISO, UTC: one calendar month after receipt (GDPR Art. 12(3))
    contact_id: str | None = None  # the data subject, as the requester named them: a contact...
    email: str | None = None  # ...or an email address, resolved into the contacts to confirm
    email_hash: str | None = None  # its keyed hash (the contacts directory's), shown once the email no longer is
    phone: str | None = None  # ...or a phone number (E.164), resolved the same way
    phone_hash: str | None = None


@dataclass(frozen=True)
class SubjectCandidatesListed(PrivacyRequestEvent):
    """The contacts of the account holding the email or phone given: one or more must be confirmed before anything
    runs."""

    request_id: str
    account_id: str
    contact_ids: list


@dataclass(frozen=True)
class PrivacyRequestRejected(PrivacyRequestEvent):
    request_id: str
    account_id: str
    why: str  # one of REJECTIONS, or NOT_CONFIRMED_BY_DEADLINE
    rejected_at: str


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
class ExportAssemblyFailed(PrivacyRequestEvent):
    """The ZIP could not be built (`attempt` of ASSEMBLY_ATTEMPTS); `export_erased`: the export expired meanwhile,
    its key shredded, so no attempt can ever succeed."""

    request_id: str
    account_id: str
    attempt: int
    why: str  # UNREADABLE or EXPORT_ERASED
    failed_at: str


@dataclass(frozen=True)
class ExportExpired(PrivacyRequestEvent):
    request_id: str
    account_id: str
    expired_at: str


@dataclass(frozen=True)
class RequestRecordShredded(PrivacyRequestEvent):
    """The request's key (`privacy-request:<id>`) shredded once its retention ended: requester, reason and email
    read as null from then on; what was done, when, and the certificate remain."""

    request_id: str
    account_id: str
    shredded_at: str


@dataclass(frozen=True)
class PrivacyRequestCompleted(PrivacyRequestEvent):
    request_id: str
    account_id: str
    status: str  # completed or partially_completed
    missing_services: list
    completed_at: str
    failed_parts: list = field(default_factory=list)  # services whose export part could not be put in the ZIP


OWN_EVENT_CLASSES = (PrivacyRequestReceived, SubjectCandidatesListed, PrivacyRequestRejected, ReplyRecorded,
                     ExportReady, ExportAssemblyFailed, ExportExpired, PrivacyRequestCompleted,
                     RequestRecordShredded, *VERIFICATION_EVENT_CLASSES)
# the questions to the services, recorded on the request for the outbox to publish (the published contracts)
ASKING = {ACCESS: SubjectExportRequested, PORTABILITY: SubjectExportRequested, ERASURE: ErasureRequested,
          RESTRICTION: ProcessingRestrictionApplied}
REPLY_TO = {ACCESS: SubjectDataExportedReply, PORTABILITY: SubjectDataExportedReply, ERASURE: SubjectErasedReply,
            RESTRICTION: SubjectRestrictedReply}


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

    def gone(self, now: datetime) -> bool:
        """Expired, or past its expiry though the sweep has not come yet: no longer to download."""
        return self.expired or datetime.fromisoformat(self.expires_at) <= now


class PrivacyRequest(Aggregate):
    aggregate_type = "PrivacyRequest"
    event_classes = (*OWN_EVENT_CLASSES, *SUBJECT_REQUEST_CLASSES, ProcessingRestrictionLifted)
    not_found_error = PrivacyRequestNotFound

    def __init__(self, request_id: str, account_id: str) -> None:
        super().__init__(request_id, account_id)
        self.type = ""
        self.status = RECEIVED
        self.contact_id: str | None = None
        self.email: str | None = None
        self.email_hash: str | None = None
        self.phone: str | None = None
        self.phone_hash: str | None = None
        self.lifted_at: str | None = None  # a restriction's, once lifted
        self.record_shredded = False
        self.candidates: list[str] = []
        self.rejection: str | None = None
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
        self.failed_parts: list[str] = []
        self.assembly_failures = 0  # since the last reply recorded or ZIP assembled
        self.values_kept: int | None = None  # an erasure's: how many values of the subject were kept for the scan
        self.subject_values: list | None = None  # those values (sealed in their event), None once shredded
        self.values_shredded = False
        self.verification: dict | None = None  # the last scan's report (ErasureVerified, as the certificate shows it)
        self.failed_scans = 0  # scans in a row that found something, every service having answered
        self.scan_errors = 0  # scans that could not be made since the last one made

    @classmethod
    def receive(cls, account_id: str, type: str, contact_id: str, requester: str, reason: str, *,
                family: list[str], services: list[str], now: datetime, request_id: str | None = None,
                known: bool = True) -> "PrivacyRequest":
        """A new request about a contact, and at once the question to every service holding personal data; about
        a contact the account does not have (`known` False), rejected at once: a certificate about nobody proves
        nothing."""
        request = cls._received(account_id, type, requester, reason, now, request_id, contact_id=contact_id)
        if known:
            request._ask([contact_id, *family], services, now)
        else:
            request._record(PrivacyRequestRejected(request.id, account_id, NO_MATCHING_CONTACT, now.isoformat()))
        return request

    @classmethod
    def receive_by_email(cls, account_id: str, type: str, email: str, requester: str, reason: str, *,
                         candidates: list[str], now: datetime, email_hash: str | None = None,
                         request_id: str | None = None) -> "PrivacyRequest":
        """A new request about whoever holds an email: the contacts found wait for confirmation (none: rejected)."""
        request = cls._received(account_id, type, requester, reason, now, request_id, email=email,
                                email_hash=email_hash)
        request._list_candidates(candidates, now)
        return request

    @classmethod
    def receive_by_phone(cls, account_id: str, type: str, phone: str, requester: str, reason: str, *,
                         candidates: list[str], now: datetime, phone_hash: str | None = None,
                         request_id: str | None = None) -> "PrivacyRequest":
        """A new request about whoever holds a phone number (E.164): as by email, the contacts found wait for
        confirmation (none: rejected)."""
        request = cls._received(account_id, type, requester, reason, now, request_id, phone=phone,
                                phone_hash=phone_hash)
        request._list_candidates(candidates, now)
        return request

    def _list_candidates(self, candidates: list[str], now: datetime) -> None:
        if candidates:
            self._record(SubjectCandidatesListed(self.id, self.account_id, sorted(set(candidates))))
        else:
            self._record(PrivacyRequestRejected(self.id, self.account_id, NO_MATCHING_CONTACT, now.isoformat()))

    @classmethod
    def _received(cls, account_id: str, type: str, requester: str, reason: str, now: datetime,
                  request_id: str | None, **subject: str) -> "PrivacyRequest":
        if type not in REQUEST_TYPES:
            raise InvalidInput("unknown request type", errors={"type": [f"one of {', '.join(REQUEST_TYPES)}"]})
        request = cls(request_id or f"privacy-request:{uuid.uuid4().hex}", account_id)
        request._record(PrivacyRequestReceived(request.id, account_id, type, requester, reason, now.isoformat(),
                                               one_month_after(now).isoformat(), **subject))
        return request

    def confirm(self, contact_ids: list[str], family: list[str], services: list[str], now: datetime) -> None:
        """The listed contacts confirmed as the subject (`family`: theirs and their merges'): ask every service."""
        if self.status != AWAITING_CONFIRMATION:
            raise Conflict(f"privacy request {self.id} is {self.status}: only a request awaiting confirmation is "
                           "confirmed", status_now=self.status)
        unknown = sorted(set(contact_ids) - set(self.candidates))
        if unknown or not contact_ids:
            raise InvalidInput("confirm contacts among those listed", errors={"contact_ids": [
                f"not among the contacts listed: {', '.join(unknown)}" if unknown else "at least one"]})
        self._ask([*contact_ids, *family], services, now)

    def reject(self, why: str, now: datetime) -> None:
        if why not in REJECTIONS:
            raise InvalidInput("unknown rejection", errors={"why": [f"one of {', '.join(REJECTIONS)}"]})
        if self.status not in (RECEIVED, AWAITING_CONFIRMATION):
            raise Conflict(f"privacy request {self.id} is {self.status}: it can no longer be rejected",
                           status_now=self.status)
        self._record(PrivacyRequestRejected(self.id, self.account_id, why, now.isoformat()))

    def confirmation_overdue(self, now: datetime) -> bool:
        """Still awaiting confirmation at its deadline: nobody said who the subject is in time."""
        return self.status == AWAITING_CONFIRMATION and datetime.fromisoformat(self.deadline) <= now

    def reject_unconfirmed(self, now: datetime) -> None:
        self._record(PrivacyRequestRejected(self.id, self.account_id, NOT_CONFIRMED_BY_DEADLINE, now.isoformat()))

    def _ask(self, contact_ids: list[str], services: list[str], now: datetime) -> None:
        if not services:
            raise InvalidInput("no service holds personal data to ask", errors={"type": ["no service to ask"]})
        self._record(ASKING[self.type](self.id, self.account_id, list(dict.fromkeys(contact_ids)), list(services),
                            now.isoformat()))

    @property
    def is_export(self) -> bool:
        return self.type in EXPORT_TYPES

    @property
    def unanswered(self) -> list[str]:
        return [service for service in self.services if service not in self.replies]

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def expected_reply(self) -> str:
        """The reply type that answers this request: an export's parts, an erasure's or a restriction's outcome."""
        return REPLY_TO[self.type].event_type()

    def record_reply(self, service: str, reply_type: str, reply: dict, now: datetime) -> bool:
        """Keep a service's reply; False (nothing recorded) if it was not asked, has answered already, or answers
        another type of request (an export's reply to an erasure)."""
        if service not in self.services or service in self.replies or self.status == REJECTED:
            return False
        if reply_type != self.expected_reply:
            return False
        self._record(ReplyRecorded(self.id, self.account_id, service, dict(reply), now.isoformat()))
        return True

    def lift(self, now: datetime) -> bool:
        """Lift a completed restriction: the services allow edits of the subject again; False (nothing recorded)
        if it was lifted already."""
        if self.type != RESTRICTION or self.status not in (COMPLETED, PARTIALLY_COMPLETED):
            raise NotLiftable(f"privacy request {self.id} ({self.type}, {self.status}) has no restriction to lift: "
                              "only a completed restriction is lifted", status_now=self.status)
        if self.lifted_at is not None:
            return False
        self._record(ProcessingRestrictionLifted(self.id, self.account_id, list(self.contact_ids), now.isoformat()))
        return True

    def export_ready(self, blob_id: str, size: int, expires_at: datetime) -> None:
        self._record(ExportReady(self.id, self.account_id, blob_id, size, expires_at.isoformat()))

    def assembly_failed(self, why: str, now: datetime) -> bool:
        """Count a failed assembly; True when no attempt is left (the request then completes without the ZIP's
        unreadable parts). An export erased meanwhile leaves none at once."""
        attempt = ASSEMBLY_ATTEMPTS if why == EXPORT_ERASED else self.assembly_failures + 1
        self._record(ExportAssemblyFailed(self.id, self.account_id, attempt, why, now.isoformat()))
        return self.assembly_failures >= ASSEMBLY_ATTEMPTS

    def keep_values(self, values: list[str], now: datetime) -> None:
        """Keep the subject's values, sealed under the request's verification key, for the scan after the erasure."""
        if self.type != ERASURE:
            raise ValueError("only an erasure is verified")
        self._record(SubjectValuesKept(self.id, self.account_id, len(values), now.isoformat(), list(values)))

    def verification_due(self, now: datetime) -> bool:
        """An ended erasure whose values were kept and are still readable, and that has not been scanned since its
        last reply (or whose rescan time has come)."""
        if self.values_kept is None or self.status not in (COMPLETED, PARTIALLY_COMPLETED) or self.values_shredded:
            return False
        if self.values_kept and self.subject_values is None:
            return False  # shredded with the request's record at its retention's end: nothing to look for
        if self.verification is None:
            return True
        if self.verification["final"]:
            return False
        next_scan_at = self.verification["next_scan_at"]
        return self.verification["replies_seen"] < len(self.replies) or (
            next_scan_at is not None and datetime.fromisoformat(next_scan_at) <= now)

    @property
    def values_shred_due(self) -> bool:
        """The last scan made (or given up), the values still to be shredded."""
        return self.verification is not None and self.verification["final"] and not self.values_shredded

    def waits_for_scan(self, now: datetime) -> bool:
        """Whether its certificate waits for a scan: none made yet, one due, or a rescan of one that found
        something still to come."""
        if self.values_kept is None:
            return False
        return self.verification is None or self.verification_due(now) or (
            not self.verification["final"] and self.verification["next_scan_at"] is not None)

    def record_verification(self, scan: ScanReport | None, values_checked: int, now: datetime) -> None:
        """Record a scan's findings (None: no value was known, nothing scanned)."""
        found = [] if scan is None else list(scan.places)
        result = NO_VALUES_KNOWN if scan is None else FAILED if found else PASSED
        self._verified(result, found, values_checked, scan, now)

    def scan_failed(self, why: str, now: datetime) -> None:
        """A scan that could not be made; after MAX_SCAN_ERRORS the erasure is verified `unverifiable`."""
        self._record(ErasureScanFailed(self.id, self.account_id, self.scan_errors + 1, why, now.isoformat()))
        if self.scan_errors >= MAX_SCAN_ERRORS:
            self._verified(UNVERIFIABLE, [], len(self.subject_values or []), None, now)

    def _verified(self, result: str, found: list, values_checked: int, scan: ScanReport | None,
                  now: datetime) -> None:
        failures = self.failed_scans + 1 if result == FAILED and not self.unanswered else 0
        next_scan_at = None
        if self.unanswered and now < datetime.fromisoformat(self.deadline):
            final = False  # the late reply brings another scan (until the request's deadline: then it is final)
        elif result == FAILED and failures <= len(RESCANS_AFTER_FAILURE):
            final, next_scan_at = False, (now + RESCANS_AFTER_FAILURE[failures - 1]).isoformat()
        else:
            final = True
        status = PARTIALLY_COMPLETED if self.unanswered or self.failed_parts or result in (FAILED, UNVERIFIABLE) \
            else COMPLETED
        self._record(ErasureVerified(
            self.id, self.account_id, result, len(found), found[:MAX_PLACES], values_checked,
            list(scan.databases) if scan else [], list(scan.topics) if scan else [],
            scan.documents_scanned if scan else 0, scan.records_scanned if scan else 0, len(self.replies),
            list(self.unanswered), status, final, now.isoformat(), next_scan_at))

    def values_were_shredded(self, now: datetime) -> None:
        """Say the values' key was shredded (the handler shreds it first)."""
        self._record(SubjectValuesShredded(self.id, self.account_id, now.isoformat()))

    @property
    def verification_failed(self) -> bool:
        return self.verification is not None and self.verification["result"] in (FAILED, UNVERIFIABLE)

    def complete(self, now: datetime, failed_parts: list[str] = ()) -> None:
        """Completed if every service answered and every part is in the ZIP, else partially completed naming
        the services missing and the parts that failed (or, an erasure, while its last scan found its values
        readable); an upgrade only."""
        missing, failed = self.unanswered, sorted(failed_parts)
        status = PARTIALLY_COMPLETED if missing or failed or self.verification_failed else COMPLETED
        if (self.status, self.missing_services, self.failed_parts) == (status, missing, failed) or \
                self.status in (COMPLETED, REJECTED):
            return
        self._record(PrivacyRequestCompleted(self.id, self.account_id, status, missing, now.isoformat(), failed))

    def timed_out(self, now: datetime, timeout) -> bool:
        """Still waiting for replies `timeout` after it asked."""
        return (self.status == IN_PROGRESS and self.requested_at is not None
                and datetime.fromisoformat(self.requested_at) + timeout <= now)

    def finish_due(self, now: datetime, timeout) -> bool:
        """Whether to assemble (an export) and complete now: every service answered since it last completed, or
        it timed out; never once its assembly attempts are spent (a new reply grants new ones)."""
        if self.status not in (IN_PROGRESS, PARTIALLY_COMPLETED) or self.assembly_failures >= ASSEMBLY_ATTEMPTS:
            return False
        if self.status == PARTIALLY_COMPLETED:
            return not self.unanswered and self.missing_services != []
        return not self.unanswered or self.timed_out(now, timeout)

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

    @property
    def shown_email(self) -> str | None:
        """The email naming the subject, until an erasure of that subject completes (then its hash alone)."""
        return None if self._subject_erased else self.email

    @property
    def shown_phone(self) -> str | None:
        """The phone naming the subject, until an erasure of that subject completes (then its hash alone)."""
        return None if self._subject_erased else self.phone

    @property
    def _subject_erased(self) -> bool:
        return self.type == ERASURE and self.status in (COMPLETED, PARTIALLY_COMPLETED)

    def record_shred_due(self, now: datetime, retention) -> bool:
        """Whether the record's personal data (requester, reason, email) is past its retention after the end."""
        return (self.ended and not self.record_shredded and self.completed_at is not None
                and datetime.fromisoformat(self.completed_at) + retention <= now)

    def shred_record(self, now: datetime) -> None:
        """Say the request's key was shredded (the handler shreds it first)."""
        self._record(RequestRecordShredded(self.id, self.account_id, now.isoformat()))

    @property
    def services_with_parts(self) -> list[str]:
        return sorted(service for service, reply in self.replies.items() if reply.get("part_blob_id"))

    def parts(self, without: Iterable[str] = ()) -> dict[str, str | None]:
        """Each answering service's export part (None: it holds nothing of the subject), but those `without`."""
        left_out = set(without)
        return {service: reply.get("part_blob_id") for service, reply in self.replies.items()
                if service not in left_out}

    def _apply(self, event: DomainEvent) -> None:
        if isinstance(event, PrivacyRequestReceived):
            self.type, self.contact_id, self.email, self.requester, self.reason = (
                event.type, event.contact_id, event.email, event.requester, event.reason)
            self.email_hash, self.phone, self.phone_hash = event.email_hash, event.phone, event.phone_hash
            self.received_at, self.deadline, self.status = event.received_at, event.deadline, RECEIVED
        elif isinstance(event, SubjectCandidatesListed):
            self.candidates, self.status = list(event.contact_ids), AWAITING_CONFIRMATION
        elif isinstance(event, PrivacyRequestRejected):
            self.rejection, self.status, self.completed_at = event.why, REJECTED, event.rejected_at
        elif isinstance(event, ProcessingRestrictionLifted):
            self.lifted_at = event.lifted_at
        elif isinstance(event, SubjectRequest):
            self.contact_ids, self.services = list(event.contact_ids), list(event.services)
            self.requested_at, self.status = event.requested_at, IN_PROGRESS
        elif isinstance(event, ReplyRecorded):
            self.replies[event.service] = {**event.reply, "answered_at": event.answered_at}
            self.assembly_failures = 0
        elif isinstance(event, ExportReady):
            earlier = [] if self.export is None else [*self.export.earlier_blob_ids, self.export.blob_id]
            self.export = ExportState(event.blob_id, event.size, event.expires_at, earlier_blob_ids=earlier)
            self.assembly_failures = 0
        elif isinstance(event, ExportAssemblyFailed):
            self.assembly_failures = event.attempt
        elif isinstance(event, RequestRecordShredded):
            self.record_shredded = True
        elif isinstance(event, ExportExpired):
            if self.export is not None:
                self.export.expired = True
        elif isinstance(event, SubjectValuesKept):
            self.values_kept, self.subject_values = event.count, event.values
        elif isinstance(event, ErasureVerified):
            self.verification = {name: getattr(event, name) for name in VERIFICATION_FIELDS}
            self.status, self.missing_services = event.status, list(event.missing_services)
            self.failed_scans = self.failed_scans + 1 if event.result == FAILED and not event.missing_services else 0
            self.scan_errors = 0
        elif isinstance(event, ErasureScanFailed):
            self.scan_errors = event.attempt
        elif isinstance(event, SubjectValuesShredded):
            self.values_shredded, self.subject_values = True, None
        elif isinstance(event, PrivacyRequestCompleted):
            self.status, self.missing_services, self.completed_at = (
                event.status, list(event.missing_services), event.completed_at)
            self.failed_parts = list(event.failed_parts)
