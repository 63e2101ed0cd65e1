"""The read model of privacy requests (`privacy_requests`): what the list shows and the sweeps query.

No personal data here (the requester and reason stay sealed in the events): type, status, dates, the
subject's contact id. The sweeps' dates are stored as datetimes, so that they compare as times.
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING

from crm_platform.aggregates import DomainEvent
from crm_platform.contracts.privacy import ProcessingRestrictionLifted, SubjectRequest
from crm_platform.envelope import EventEnvelope
from crm_platform.projections import Projection, versioned_upsert

from privacy.domain.requests import (
    ASSEMBLY_ATTEMPTS, ExportAssemblyFailed, ExportExpired, ExportReady, PrivacyRequest, PrivacyRequestCompleted,
    PrivacyRequestReceived, PrivacyRequestRejected, ReplyRecorded, RequestRecordShredded, SubjectCandidatesListed,
)
from privacy.domain.verification import ErasureScanFailed, ErasureVerified, SubjectValuesKept, SubjectValuesShredded


class PrivacyRequestsProjection(Projection):
    aggregate_type = PrivacyRequest.aggregate_type

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("received_at", DESCENDING), ("_id", DESCENDING)],
                                     name="account_newest")
        self.collection.create_index([("status", ASCENDING), ("requested_at", ASCENDING)], name="waiting")
        self.collection.create_index([("status", ASCENDING), ("completed_at", ASCENDING)], name="ended")
        self.collection.create_index([("export_state", ASCENDING), ("export_expires_at", ASCENDING)],
                                     name="exports")
        self.collection.create_index([("verify_pending", ASCENDING), ("verifies", ASCENDING), ("status", ASCENDING)],
                                     name="verification_candidates")

    def project(self, envelope: EventEnvelope, event: DomainEvent, rebuilding: bool) -> bool:
        fields = _fields(event)
        if fields is None:
            return False
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version,
                                {"account_id": envelope.account_id, **fields}, replace_same_version=rebuilding)

    def overdue(self, cutoff: datetime, now: datetime) -> list[tuple[str, str]]:
        """(account id, request id) of the requests waiting for replies since before `cutoff`, of the exports
        whose ZIP failed with attempts left, and of the requests still awaiting confirmation at their deadline."""
        found = self.collection.find({"$or": [{"status": "in_progress", "requested_at": {"$lte": cutoff}},
                                              {"assembly_retry": True},
                                              {"status": "awaiting_confirmation", "deadline_at": {"$lte": now}}]},
                                     {"account_id": 1}).limit(1000)
        return [(doc["account_id"], doc["_id"]) for doc in found]

    def ended_before(self, cutoff: datetime) -> list[tuple[str, str]]:
        """(account id, request id) of the requests ended (completed or rejected) before `cutoff`, their record
        not yet shredded."""
        found = self.collection.find({"status": {"$in": ["completed", "partially_completed", "rejected"]},
                                      "completed_at": {"$lte": cutoff}, "record_shredded": {"$ne": True}},
                                     {"account_id": 1}).limit(1000)
        return [(doc["account_id"], doc["_id"]) for doc in found]

    def to_verify(self, now: datetime) -> list[tuple[str, str]]:
        """(account id, request id) of the erasures whose values were kept, ended, and answered again (or ended)
        since their last scan, or whose rescan time has come, or whose values are to be shredded after their last
        scan; oldest ended first. FerretDB reads only the flagged ones (the equalities, indexed); the rest of the
        filter and the sort apply to those few."""
        found = self.collection.find({"verify_pending": True, "verifies": True,
                                      "status": {"$in": ["completed", "partially_completed"]},
                                      "values_shredded": {"$ne": True},  # a reply years late: nothing to look for
                                      "$or": [{"verify_after": None}, {"verify_after": {"$lte": now}}]},
                                     {"account_id": 1}).sort("completed_at", ASCENDING).limit(1000)
        return [(doc["account_id"], doc["_id"]) for doc in found]

    def expired_exports(self, now: datetime) -> list[tuple[str, str]]:
        """(account id, request id) of the exports past their expiry and not yet expired."""
        found = self.collection.find({"export_state": "ready", "export_expires_at": {"$lte": now}},
                                     {"account_id": 1}).limit(1000)
        return [(doc["account_id"], doc["_id"]) for doc in found]


def _fields(event: DomainEvent) -> dict | None:
    """What an event changes in the request's document (reading the latest version: events come in order)."""
    if isinstance(event, PrivacyRequestReceived):
        return {"type": event.type, "status": "received", "contact_id": event.contact_id,
                "received_at": _time(event.received_at), "deadline": event.deadline,
                "deadline_at": _time(event.deadline)}
    if isinstance(event, SubjectCandidatesListed):
        return {"status": "awaiting_confirmation"}
    if isinstance(event, PrivacyRequestRejected):
        return {"status": "rejected", "completed_at": _time(event.rejected_at)}
    if isinstance(event, SubjectRequest):
        return {"status": "in_progress", "requested_at": _time(event.requested_at), "services": list(event.services)}
    if isinstance(event, ProcessingRestrictionLifted):
        return {"lifted_at": _time(event.lifted_at)}
    if isinstance(event, ReplyRecorded):
        return {"verify_pending": True}  # an ended erasure answered again is scanned again
    if isinstance(event, ExportReady):
        return {"export_state": "ready", "export_expires_at": _time(event.expires_at), "assembly_retry": False}
    if isinstance(event, ExportAssemblyFailed):
        return {"assembly_retry": event.attempt < ASSEMBLY_ATTEMPTS}
    if isinstance(event, RequestRecordShredded):
        return {"record_shredded": True}
    if isinstance(event, ExportExpired):
        return {"export_state": "expired"}
    if isinstance(event, PrivacyRequestCompleted):
        return {"status": event.status, "completed_at": _time(event.completed_at),
                "missing_services": list(event.missing_services), "failed_parts": list(event.failed_parts),
                "assembly_retry": False, "verify_pending": True}
    if isinstance(event, SubjectValuesKept):
        return {"verifies": True}
    if isinstance(event, ErasureVerified):  # pending still: a rescan to come, or the values to shred
        return {"status": event.status, "missing_services": list(event.missing_services),
                "verify_pending": event.final or event.next_scan_at is not None,
                "verify_after": _time(event.next_scan_at) if event.next_scan_at else None,
                "verification": event.result}
    if isinstance(event, ErasureScanFailed):
        return {}  # tried again (the worker waits a while first)
    if isinstance(event, SubjectValuesShredded):
        return {"verify_pending": False, "verify_after": None, "values_shredded": True}
    return None


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)

