"""Handlers of the privacy service: a request received, each reply recorded, the sweeps' time-outs and expiries.

Every reply handler is idempotent (Kafka delivers at least once): a reply already recorded, of a request
unknown here or of another account, changes nothing.
"""
from __future__ import annotations

import logging
from dataclasses import asdict

from crm_platform.contracts.privacy import SubjectDataExportedReply, SubjectErasedReply

from privacy.domain.commands import (
    ConfirmSubject, ExpireExport, ReceivePrivacyRequest, RejectPrivacyRequest, TimeOutRequest,
)
from privacy.domain.requests import PrivacyRequest
from privacy.service_layer.ports import Clock, EmailLookup, ExportAssembler, MergeFamily, Policy
from privacy.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
REPLY_ENVELOPE_FIELDS = ("request_id", "account_id")


def receive_request(cmd: ReceivePrivacyRequest, uow: UnitOfWork, family: MergeFamily, lookup: EmailLookup,
                    policy: Policy, clock: Clock) -> PrivacyRequest:
    with uow:
        if cmd.email is not None:
            request = PrivacyRequest.receive_by_email(cmd.account_id, cmd.type, cmd.email, cmd.requester, cmd.reason,
                                                      candidates=lookup(cmd.account_id, cmd.email), now=clock())
        else:
            request = PrivacyRequest.receive(cmd.account_id, cmd.type, cmd.contact_id, cmd.requester, cmd.reason,
                                             family=family(cmd.account_id, cmd.contact_id),
                                             services=list(policy.services), now=clock())
        uow.requests.add(request)
        uow.commit()
    return request


def confirm_subject(cmd: ConfirmSubject, uow: UnitOfWork, family: MergeFamily, policy: Policy,
                    clock: Clock) -> PrivacyRequest:
    with uow:
        request = uow.requests.get(cmd.account_id, cmd.request_id)
        families = [member for contact_id in cmd.contact_ids for member in family(cmd.account_id, contact_id)]
        request.confirm(list(cmd.contact_ids), families, list(policy.services), clock())
        uow.commit()
    return request


def reject_request(cmd: RejectPrivacyRequest, uow: UnitOfWork, clock: Clock) -> PrivacyRequest:
    with uow:
        request = uow.requests.get(cmd.account_id, cmd.request_id)
        request.reject(cmd.why, clock())
        uow.commit()
    return request


def record_reply(reply: SubjectErasedReply | SubjectDataExportedReply, uow: UnitOfWork, exports: ExportAssembler,
                 policy: Policy, clock: Clock) -> None:
    with uow:
        request = uow.requests.find(reply.account_id, reply.request_id)
        if request is None:
            return  # not ours: another account's, or a request this service never made
        payload = {k: v for k, v in asdict(reply).items() if k not in REPLY_ENVELOPE_FIELDS}
        if not request.record_reply(reply.service, payload, clock()):
            return
        if not request.unanswered:
            _finish(request, exports, policy, clock)
        uow.commit()
    log.info("privacy reply recorded", extra={"request_id": request.id, "service": reply.service,
                                              "status": request.status})


def time_out_request(cmd: TimeOutRequest, uow: UnitOfWork, exports: ExportAssembler, policy: Policy,
                     clock: Clock) -> None:
    with uow:
        request = uow.requests.find(cmd.account_id, cmd.request_id)
        if request is None or not request.timed_out(clock(), policy.reply_timeout):
            return
        _finish(request, exports, policy, clock)
        uow.commit()
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
        uow.commit()
    exports.discard(blobs)


def _finish(request: PrivacyRequest, exports: ExportAssembler, policy: Policy, clock: Clock) -> None:
    """An export gets its ZIP of the parts there are (unless already expired), then the request completes."""
    if request.is_export and not (request.export is not None and request.export.expired):
        blob_id, size = exports.assemble(request)
        request.export_ready(blob_id, size, clock() + policy.export_ttl)
    request.complete(clock())
