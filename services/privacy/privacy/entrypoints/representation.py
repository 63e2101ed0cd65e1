"""How a privacy request is shown: its progress per service and its audit trail (no personal data there:
the requester and reason, opened from their seal, are shown once, as the request's own fields)."""
from __future__ import annotations

from datetime import datetime

from crm_platform.envelope import EventEnvelope

from privacy.domain.requests import PrivacyRequest

# what the audit trail shows of each event's payload: ids, names, counts and dates only
AUDIT_DETAILS = {
    "PrivacyRequestReceived": ("type", "contact_id", "deadline"),
    "SubjectCandidatesListed": ("contact_ids",),
    "PrivacyRequestRejected": ("why",),
    "SubjectExportRequested": ("contact_ids", "services"),
    "ErasureRequested": ("contact_ids", "services"),
    "ProcessingRestrictionApplied": ("contact_ids", "services"),
    "ProcessingRestrictionLifted": ("contact_ids", "lifted_at"),
    "ReplyRecorded": ("service",),
    "ExportReady": ("size", "expires_at"),
    "ExportAssemblyFailed": ("attempt", "why"),
    "ExportExpired": (),
    "PrivacyRequestCompleted": ("status", "missing_services", "failed_parts"),
    "RequestRecordShredded": ("shredded_at",),
    "SubjectValuesKept": ("count",),
    "ErasureVerified": ("result", "readable_occurrences", "documents_scanned", "records_scanned", "status",
                        "next_scan_at"),
    "ErasureScanFailed": ("attempt", "why"),
    "SubjectValuesShredded": ("shredded_at",),
}


def request_view(request: PrivacyRequest, history: list[EventEnvelope], now: datetime) -> dict:
    return {**summary_view(request), "revision": request.revision, "contact_ids": list(request.contact_ids),
            "requester": request.requester, "reason": request.reason, "email": request.shown_email,
            "email_hash": request.email_hash, "phone": request.shown_phone, "phone_hash": request.phone_hash,
            "record_shredded": request.record_shredded,
            "candidates": list(request.candidates), "rejection": request.rejection,
            "requested_at": request.requested_at,
            "services": [_progress(request, service) for service in request.services],
            "missing_services": request.unanswered, "failed_parts": list(request.failed_parts),
            "export": _export(request), "verification": _verification(request, now),
            "audit_trail": [_audit(envelope) for envelope in history]}


def summary_view(request: PrivacyRequest) -> dict:
    return {"id": request.id, "type": request.type, "status": request.status, "contact_id": request.contact_id,
            "received_at": request.received_at, "deadline": request.deadline, "completed_at": request.completed_at,
            "lifted_at": request.lifted_at}


def summary_of_document(doc: dict) -> dict:
    return {"id": doc["_id"], "type": doc["type"], "status": doc["status"], "contact_id": doc.get("contact_id"),
            "received_at": doc["received_at"].isoformat(), "deadline": doc["deadline"],
            "completed_at": doc["completed_at"].isoformat() if doc.get("completed_at") else None,
            "lifted_at": doc["lifted_at"].isoformat() if doc.get("lifted_at") else None}


def _progress(request: PrivacyRequest, service: str) -> dict:
    reply = request.replies.get(service)
    if reply is None:
        return {"service": service, "asked": True, "answered": False, "answered_at": None, "outcome": None}
    outcome = reply.get("outcome") or ("exported" if reply.get("part_blob_id") else "nothing_held")
    shown = {"service": service, "asked": True, "answered": True, "answered_at": reply["answered_at"],
             "outcome": outcome}
    for name in ("item_count", "items_erased", "keys_destroyed", "retained"):
        if name in reply:
            shown[name] = reply[name]
    return shown


def _verification(request: PrivacyRequest, now: datetime) -> dict | None:
    """An erasure's scan for the subject's values after it: `pending` until one is made, `rescanning` while one
    that found something waits to be made again, then `done` with what the last one found."""
    if request.values_kept is None:
        return None
    if request.verification is None:
        return {"state": "pending", "values_checked": request.values_kept}
    shown = {name: value for name, value in request.verification.items() if name not in ("replies_seen", "final")}
    state = "pending" if request.verification_due(now) else "rescanning" if request.waits_for_scan(now) else "done"
    return {**shown, "state": state, "values_shredded": request.values_shredded}


def _export(request: PrivacyRequest) -> dict | None:
    if not request.is_export:
        return None
    if request.export is None:
        return {"state": "pending", "size": None, "expires_at": None}
    return {"state": "expired" if request.export.expired else "ready", "size": request.export.size,
            "expires_at": request.export.expires_at}


def _audit(envelope: EventEnvelope) -> dict:
    fields = AUDIT_DETAILS.get(envelope.event_type, ())
    return {"what": envelope.event_type, "when": envelope.occurred_at.isoformat(), "actor": envelope.actor,
            "details": {name: envelope.payload[name] for name in fields if name in envelope.payload}}
