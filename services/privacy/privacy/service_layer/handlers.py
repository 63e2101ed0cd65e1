"""Handlers of the privacy service: a request received, each reply recorded, a restriction lifted, the sweeps'
time-outs and expiries, and the scan that verifies an erasure.

Every reply handler is idempotent (Kafka delivers at least once): a reply already recorded, of a request
unknown here or of another account, changes nothing.
"""
from __future__ import annotations

import logging
from dataclasses import asdict

from crm_platform.event_consumer import described_error
from crm_platform.personal_data import SubjectErased

from privacy.domain.commands import (
    ConfirmSubject, ExpireExport, LiftRestriction, ReceivePrivacyRequest, RecordReply, RejectPrivacyRequest,
    ShredRequestRecord, TimeOutRequest, VerifyErasure,
)
from privacy.domain.requests import ERASURE, EXPORT_ERASED, IN_PROGRESS, REQUEST_SUBJECT, UNREADABLE, PrivacyRequest
from privacy.domain.verification import NO_VALUES_KNOWN, PASSED, SCAN_ERROR, SCAN_TIMED_OUT, VERIFICATION_SUBJECT
from privacy.service_layer.ports import (
    Clock, ContactKnown, EmailHash, EmailLookup, ExportAssembler, ExportNotAssembled, KnownValues, MergeFamily,
    PhoneHash, PhoneLookup, Policy, Scanner, ShredSubject,
)
from privacy.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
REPLY_ENVELOPE_FIELDS = ("request_id", "account_id")


def receive_request(cmd: ReceivePrivacyRequest, uow: UnitOfWork, family: MergeFamily, lookup: EmailLookup,
                    email_hash: EmailHash, phone_lookup: PhoneLookup, phone_hash: PhoneHash,
                    contact_known: ContactKnown, known_values: KnownValues, policy: Policy,
                    clock: Clock) -> PrivacyRequest:
    by_holding = cmd.email is not None or cmd.phone is not None
    known = by_holding or contact_known(cmd.account_id, cmd.contact_id)  # before: it may wait a little
    with uow:
        if cmd.email is not None:
            request = PrivacyRequest.receive_by_email(cmd.account_id, cmd.type, cmd.email, cmd.requester, cmd.reason,
                                                      candidates=lookup(cmd.account_id, cmd.email), now=clock(),
                                                      email_hash=email_hash(cmd.account_id, cmd.email))
        elif cmd.phone is not None:
            request = PrivacyRequest.receive_by_phone(cmd.account_id, cmd.type, cmd.phone, cmd.requester, cmd.reason,
                                                      candidates=phone_lookup(cmd.account_id, cmd.phone), now=clock(),
                                                      phone_hash=phone_hash(cmd.account_id, cmd.phone))
        else:
            request = PrivacyRequest.receive(cmd.account_id, cmd.type, cmd.contact_id, cmd.requester, cmd.reason,
                                             family=family(cmd.account_id, cmd.contact_id) if known else [],
                                             services=list(policy.services), now=clock(), known=known)
        _keep_values_if_erasing(request, known_values, clock)
        uow.requests.add(request)
        uow.commit()
    return request


def confirm_subject(cmd: ConfirmSubject, uow: UnitOfWork, family: MergeFamily, known_values: KnownValues,
                    policy: Policy, clock: Clock) -> PrivacyRequest:
    with uow:
        request = uow.requests.get(cmd.account_id, cmd.request_id)
        families = [member for contact_id in cmd.contact_ids for member in family(cmd.account_id, contact_id)]
        request.confirm(list(cmd.contact_ids), families, list(policy.services), clock())
        _keep_values_if_erasing(request, known_values, clock)
        uow.commit()
    return request


def _keep_values_if_erasing(request: PrivacyRequest, known_values: KnownValues, clock: Clock) -> None:
    """An erasure about to be asked: the values known of its subject (privacy's directory's, and the email or phone
    the request named them by, if no other contact holds it) sealed in the same commit as the question, for the
    scan after it."""
    if request.type != ERASURE or request.status != IN_PROGRESS:
        return
    request.keep_values(known_values(request.account_id, list(request.contact_ids), request.email, request.phone),
                        clock())


def verify_erasure(cmd: VerifyErasure, uow: UnitOfWork, scanner: Scanner, shred_subject: ShredSubject,
                   clock: Clock) -> bool:
    """The scan after an ended erasure: every database and topic searched for the values kept, the findings
    recorded (a value readable leaves the request partially completed, and is scanned for again a few times
    before it is taken as the result), then, after the last scan, the values' key shredded. Whether it did
    anything: a request scanned since its last reply, or not due yet, is left alone (idempotent)."""
    with uow:
        request = uow.requests.find(cmd.account_id, cmd.request_id)
        if request is None:
            return False
        if not request.values_shred_due:
            now = clock()
            if not request.verification_due(now):
                return False
            values = request.subject_values or []
            try:
                scan = scanner(request.account_id, values) if values else None
            except Exception as exc:
                request.scan_failed(SCAN_TIMED_OUT if isinstance(exc, TimeoutError) else SCAN_ERROR, clock())
                uow.commit()
                if not request.values_shred_due:
                    raise  # tried again later (the sweep waits a while first)
                log.error("privacy erasure unverifiable: its scan failed too often",
                          extra={"request_id": request.id, "error": described_error(exc)})
            else:
                request.record_verification(scan, len(values), clock())  # its rescan counted from its end
                uow.commit()
                _log_verification(request)
    _shred_values_if_due(cmd, uow, shred_subject, clock)
    return True


def _shred_values_if_due(cmd: VerifyErasure, uow: UnitOfWork, shred_subject: ShredSubject, clock: Clock) -> None:
    """Its own step, after the last scan's commit: a crash between the two leaves it due, and the next round does
    it (shredding twice changes nothing)."""
    with uow:
        request = uow.requests.find(cmd.account_id, cmd.request_id)
        if request is None or not request.values_shred_due:
            return
        shred_subject(VERIFICATION_SUBJECT.format(request_id=request.id))
        request.values_were_shredded(clock())
        uow.commit()


def _log_verification(request: PrivacyRequest) -> None:
    """Counts and containers only (a place's name never holds a value: scanned documents are named by
    collection)."""
    verification = request.verification
    log_at = log.info if verification["result"] in (PASSED, NO_VALUES_KNOWN) else log.warning
    log_at("privacy erasure verified", extra={
        "request_id": request.id, "result": verification["result"], "final": verification["final"],
        "readable_occurrences": verification["readable_occurrences"], "places": verification["places"][:10]})


def reject_request(cmd: RejectPrivacyRequest, uow: UnitOfWork, clock: Clock) -> PrivacyRequest:
    with uow:
        request = uow.requests.get(cmd.account_id, cmd.request_id)
        request.reject(cmd.why, clock())
        uow.commit()
    return request


def lift_restriction(cmd: LiftRestriction, uow: UnitOfWork, clock: Clock) -> PrivacyRequest:
    """Idempotent: a restriction lifted already is returned as it is."""
    with uow:
        request = uow.requests.get(cmd.account_id, cmd.request_id)
        if request.lift(clock()):
            uow.commit()
    return request


def record_reply(cmd: RecordReply, uow: UnitOfWork, exports: ExportAssembler, policy: Policy,
                 clock: Clock) -> None:
    reply = cmd.reply
    if reply.service != cmd.producer:  # a service answers for itself only, on its own topic
        log.warning("privacy reply passed over: it names another service than its topic's producer",
                    extra={"request_id": reply.request_id, "service": reply.service, "producer": cmd.producer})
        return
    with uow:
        request = uow.requests.find(reply.account_id, reply.request_id)
        if request is None:
            return  # not ours: another account's, or a request this service never made
        if type(reply).event_type() != request.expected_reply:
            log.warning("privacy reply passed over: it answers another type of request",
                        extra={"request_id": request.id, "service": reply.service, "reply": type(reply).event_type()})
            return
        payload = {k: v for k, v in asdict(reply).items() if k not in REPLY_ENVELOPE_FIELDS}
        recorded = request.record_reply(reply.service, type(reply).event_type(), payload, clock())
        uow.commit()  # on its own: whatever becomes of the ZIP, the reply is kept (and not dead-lettered)
    if recorded:
        log.info("privacy reply recorded", extra={"request_id": request.id, "service": reply.service})
    if request.export is not None and request.export.expired:  # a part come after the export's expiry
        exports.discard(sorted({*filter(None, [getattr(reply, "part_blob_id", None)]),
                                *exports.blobs_of(request.id)}))
    # also when redelivered: the step may have been cut short after the reply was recorded
    _finish_if_due(reply.account_id, reply.request_id, uow, exports, policy, clock)


def time_out_request(cmd: TimeOutRequest, uow: UnitOfWork, exports: ExportAssembler, policy: Policy,
                     clock: Clock) -> None:
    """The sweep's round: a request past its timeout completes, an export whose ZIP failed is tried again, and
    one still awaiting confirmation at its deadline is rejected."""
    with uow:
        request = uow.requests.find(cmd.account_id, cmd.request_id)
        if request is not None and request.confirmation_overdue(clock()):
            request.reject_unconfirmed(clock())
            uow.commit()
            log.warning("privacy request rejected: not confirmed by its deadline", extra={"request_id": request.id})
            return
    request = _finish_if_due(cmd.account_id, cmd.request_id, uow, exports, policy, clock)
    if request is not None and request.missing_services:
        log.warning("privacy request timed out", extra={"request_id": request.id,
                                                         "missing_services": request.missing_services})


def expire_export(cmd: ExpireExport, uow: UnitOfWork, exports: ExportAssembler, clock: Clock) -> None:
    with uow:
        request = uow.requests.find(cmd.account_id, cmd.request_id)
        if request is None:
            return
        blobs = request.expire_export(clock())
        if not blobs:
            return
        exports.shred(request.id)  # first: whatever happens next, nothing of it can be read again
        # then the space, before the commit: once ExportExpired is stored no sweep would come back for it
        exports.discard(sorted({*blobs, *exports.blobs_of(request.id)}))
        uow.commit()


def shred_request_record(cmd: ShredRequestRecord, uow: UnitOfWork, shred_subject: ShredSubject, policy: Policy,
                         clock: Clock) -> None:
    """Past its retention, a request's requester, reason and email are made unreadable for good."""
    with uow:
        request = uow.requests.find(cmd.account_id, cmd.request_id)
        if request is None or not request.record_shred_due(clock(), policy.request_retention):
            return
        shred_subject(REQUEST_SUBJECT.format(request_id=request.id))  # first: a crash before the commit repeats it
        shred_subject(VERIFICATION_SUBJECT.format(request_id=request.id))  # an erasure's values, if still kept
        request.shred_record(clock())
        if request.values_kept is not None and not request.values_shredded:
            request.values_were_shredded(clock())  # no scan is due any more, whatever reply comes
        uow.commit()
    log.info("privacy request record shredded", extra={"request_id": request.id})


def _finish_if_due(account_id: str, request_id: str, uow: UnitOfWork, exports: ExportAssembler, policy: Policy,
                   clock: Clock) -> PrivacyRequest | None:
    """Its own step: an export gets its ZIP of the parts there are (a failure counted, not raised, so that the
    attempts are bounded), then the request completes; the request if it was due."""
    with uow:
        request = uow.requests.find(account_id, request_id)
        if request is None or not request.finish_due(clock(), policy.reply_timeout):
            return None
        zip_blob_id, failed_parts = _assemble(request, exports, policy, clock)
        if failed_parts is not None:
            request.complete(clock(), failed_parts)
        try:
            uow.commit()
        except Exception:
            if zip_blob_id is not None:
                exports.discard([zip_blob_id])  # a ZIP nothing points to would never be discarded
            raise
    return request


def _assemble(request: PrivacyRequest, exports: ExportAssembler, policy: Policy,
              clock: Clock) -> tuple[str | None, list[str] | None]:
    """(The ZIP written or None, the parts left out of it); parts None: not complete yet, tried again later."""
    if not request.is_export or (request.export is not None and request.export.expired):
        return None, []
    try:
        blob_id, size = exports.assemble(request, without=())
        failed_parts = []
    except SubjectErased:  # the export expired meanwhile: none of its parts can ever be read again
        request.assembly_failed(EXPORT_ERASED, clock())
        return None, request.services_with_parts
    except ExportNotAssembled as exc:
        spent = request.assembly_failed(UNREADABLE, clock())
        log.warning("privacy export could not be assembled", extra={
            "request_id": request.id, "attempt": request.assembly_failures,
            "error": described_error(exc.__cause__ or exc)})
        if not spent:
            return None, None
        failed_parts = exports.unreadable_parts(request)
        try:
            blob_id, size = exports.assemble(request, without=failed_parts)
        except (ExportNotAssembled, SubjectErased):
            return None, request.services_with_parts
    log.info("privacy export assembled", extra={"request_id": request.id, "failed_parts": failed_parts})
    request.export_ready(blob_id, size, clock() + policy.export_ttl)
    return blob_id, failed_parts
