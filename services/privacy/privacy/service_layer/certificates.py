"""A request's certificate: what each service did, signed, with a keyed hash of the subject instead of any id."""
from __future__ import annotations

from datetime import datetime

from crm_platform.personal_data import PersonalDataCipher

from privacy.adapters.signing import CertificateSigner
from privacy.domain.certificate import build_certificate, keyed_key_id, subject_hash
from privacy.domain.verification import found_in
from privacy.domain.requests import (
    COMPLETED, PARTIALLY_COMPLETED, REJECTED, CertificateNotReady, PrivacyRequest, RequestWasRejected,
)

SUBJECT_HASH_SECRET = "privacy-subject-hash:{account_id}"


def certificate_of(request: PrivacyRequest, cipher: PersonalDataCipher, signer: CertificateSigner,
                   now: datetime) -> dict:
    """The signed certificate; CertificateNotReady (409) until the request has completed, even partially, and
    RequestWasRejected (409) for a request rejected, which did nothing to certify."""
    if request.status == REJECTED:
        raise RequestWasRejected(f"privacy request {request.id} was rejected ({request.rejection}): nothing was "
                                 "done, so there is no certificate", status_now=request.status,
                                 rejection=request.rejection)
    if request.status not in (COMPLETED, PARTIALLY_COMPLETED):
        raise CertificateNotReady(f"privacy request {request.id} is {request.status}: its certificate comes "
                                  "when it completes", status_now=request.status)
    if request.waits_for_scan(now):
        raise CertificateNotReady(f"privacy request {request.id} is {request.status}: its certificate comes once "
                                  "the scan for the subject's values is done", status_now=request.status)
    secret = cipher.secret(SUBJECT_HASH_SECRET.format(account_id=request.account_id))
    unsigned = build_certificate(as_certified(request, secret),
                                 subject_hash(secret, request.account_id, request.contact_ids), now.isoformat())
    return signer.sign(unsigned)


def as_certified(request: PrivacyRequest, secret: bytes) -> dict:
    """The request as the certificate reads it (privacy.domain.certificate.build_certificate), the ids of the
    keys destroyed keyed-hashed (they name the subject's contacts)."""
    replies = {service: {**reply, **({"keys_destroyed": [keyed_key_id(secret, key) for key in
                                                         reply["keys_destroyed"]]}
                                     if "keys_destroyed" in reply else {})}
               for service, reply in request.replies.items()}
    return {"request_id": request.id, "account_id": request.account_id, "type": request.type,
            "status": request.status, "requested_at": request.requested_at, "completed_at": request.completed_at,
            "contact_ids": list(request.contact_ids), "replies": replies,
            "services": list(request.services), "missing_services": request.unanswered,
            "failed_parts": list(request.failed_parts), "lifted_at": request.lifted_at,
            "verification": certified_verification(request.verification)}


def certified_verification(verification: dict | None) -> dict | None:
    """The scan's report as a certificate shows it: where values were found by container only (database.collection,
    topic/partition)."""
    if verification is None:
        return None
    return {"result": verification["result"], "readable_occurrences": verification["readable_occurrences"],
            "found_in": found_in(verification["places"]), "values_checked": verification["values_checked"],
            "databases": list(verification["databases"]), "topics": list(verification["topics"]),
            "documents_scanned": verification["documents_scanned"],
            "records_scanned": verification["records_scanned"], "verified_at": verification["verified_at"]}
