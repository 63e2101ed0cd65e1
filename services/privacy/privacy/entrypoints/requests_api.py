"""/v1/privacy: a person's data exported, erased or its processing restricted (and lifted) across every service,
followed step by step, with the export to download and a signed certificate. Views load, send a command, dump."""
from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from crm_platform.errors import NotFound
from crm_platform.openapi import BINARY, operation
from crm_platform.web import account_id, current_container, json_body

from privacy import views
from privacy.adapters.certificate_pdf import certificate_pdf
from privacy.domain.commands import ConfirmSubject, LiftRestriction, ReceivePrivacyRequest, RejectPrivacyRequest
from privacy.domain.requests import ExportGone, ExportNotReady, PrivacyRequest
from privacy.entrypoints import schemas
from privacy.entrypoints.representation import request_view, summary_of_document
from privacy.service_layer.certificates import certificate_of

bp = Blueprint("privacy", __name__, url_prefix="/v1/privacy")
TAGS = ["privacy"]


@bp.post("/requests")
@operation("Receive a request to export (access, portability), erase (erasure) or restrict the processing "
           "(restriction, Art. 18) of a person's data: every service holding personal data is asked at once", tags=TAGS, request_schema=schemas.PrivacyRequestCreateSchema,
           responses={202: schemas.PrivacyRequestSchema}, problems=(415, 422))
def receive_request():
    data = schemas.PrivacyRequestCreateSchema().load(json_body())
    container = current_container()
    subject = data["subject"]
    privacy_request = container.bus.handle(ReceivePrivacyRequest(
        account_id(), data["type"], subject.get("contact_id"), data["requester"], data["reason"], subject.get("email"),
        subject.get("phone")))
    where = url_for("privacy.get_request", request_id=privacy_request.id)
    return _detail(privacy_request), 202, {"Location": where}


@bp.get("/requests")
@operation("The account's privacy requests, newest first, filtered by type and status", tags=TAGS,
           query_schema=schemas.PrivacyRequestQuerySchema, responses={200: schemas.PrivacyRequestPageSchema},
           problems=(422,))
def list_requests():
    query = schemas.PrivacyRequestQuerySchema().load(request.args.to_dict())
    docs, next_cursor = views.requests_page(current_container().projection.collection, account_id(), query["type"],
                                            query["status"], query["limit"], query["cursor"])
    return {"items": [summary_of_document(doc) for doc in docs], "next_cursor": next_cursor}


@bp.get("/requests/<request_id>")
@operation("A privacy request: status, deadline, each service's progress, audit trail", tags=TAGS,
           responses={200: schemas.PrivacyRequestSchema}, problems=(404,))
def get_request(request_id: str):
    with current_container().unit_of_work() as uow:  # one read of the events: the request and its trail agree
        history = uow.requests.history(account_id(), request_id)
        privacy_request = uow.requests.rebuilt(account_id(), request_id, history)
    if privacy_request is None or privacy_request.gone:
        raise PrivacyRequest.not_found(request_id)
    return request_view(privacy_request, history, current_container().clock())


@bp.post("/requests/<request_id>/confirm")
@operation("Confirm which of the contacts listed for a request by email or phone are the person: every service is then "
           "asked about them and their merges", tags=TAGS, request_schema=schemas.ConfirmSubjectSchema,
           responses={200: schemas.PrivacyRequestSchema}, problems=(404, 409, 415, 422))
def confirm_subject(request_id: str):
    data = schemas.ConfirmSubjectSchema().load(json_body())
    return _detail(current_container().bus.handle(ConfirmSubject(account_id(), request_id, tuple(data["contact_ids"]))))


@bp.post("/requests/<request_id>/reject")
@operation("Reject a request not yet asked of the services (awaiting confirmation)", tags=TAGS,
           request_schema=schemas.RejectSchema, responses={200: schemas.PrivacyRequestSchema},
           problems=(404, 409, 415, 422))
def reject_request(request_id: str):
    data = schemas.RejectSchema().load(json_body())
    return _detail(current_container().bus.handle(RejectPrivacyRequest(account_id(), request_id, data["why"])))


@bp.post("/requests/<request_id>/lift")
@operation("Lift a completed restriction of processing: every service allows edits of the person again "
           "(idempotent)", tags=TAGS, responses={200: schemas.PrivacyRequestSchema}, problems=(404, 409))
def lift_restriction(request_id: str):
    return _detail(current_container().bus.handle(LiftRestriction(account_id(), request_id)))


@bp.get("/requests/<request_id>/export")
@operation("Download the export (a ZIP): 409 until it is ready, 410 once expired; access and portability only",
           tags=TAGS, responses={200: ("application/zip", BINARY)}, problems=(404, 409, 410))
def download_export(request_id: str):
    privacy_request = _load(request_id)
    if not privacy_request.is_export:
        raise NotFound(f"privacy request {request_id} is an erasure: it has no export")
    if privacy_request.export is None:
        raise ExportNotReady(f"the export of {request_id} is not ready yet ({privacy_request.status})",
                             status_now=privacy_request.status)
    if privacy_request.export.gone(current_container().clock()):
        raise ExportGone(f"the export of {request_id} expired at {privacy_request.export.expires_at} and was "
                         "deleted; make a new request")
    info, chunks = current_container().exchange.open_file(request_id, privacy_request.export.blob_id)
    filename = f"{request_id.replace(':', '-')}.zip"
    return Response(chunks, mimetype="application/zip", headers={
        "Content-Length": str(info.length), "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


@bp.get("/requests/<request_id>/certificate")
@operation("The request's certificate, signed with Ed25519 (no personal data): 409 until it completes", tags=TAGS,
           responses={200: schemas.CertificateSchema}, problems=(404, 409))
def get_certificate(request_id: str):
    container = current_container()
    return certificate_of(_load(request_id), container.cipher, container.signer, container.clock())


@bp.get("/requests/<request_id>/certificate/pdf")
@operation("The request's certificate as a PDF/A-3b to file or print, the signed JSON attached inside as "
           "certificate.json (what the verify command checks): 409 until the request completes", tags=TAGS,
           responses={200: ("application/pdf", BINARY)}, problems=(404, 409))
def get_certificate_pdf(request_id: str):
    container = current_container()
    certificate = certificate_of(_load(request_id), container.cipher, container.signer, container.clock())
    filename = f"certificate-{request_id.replace(':', '-')}.pdf"
    return Response(certificate_pdf(certificate, container.signer.public_key()), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@bp.get("/public-key")
@operation("The public key that verifies certificates (Ed25519, base64 of the raw 32 bytes)", tags=TAGS,
           responses={200: schemas.PublicKeySchema})
def public_key():
    return current_container().signer.public_key()


def _load(request_id: str) -> PrivacyRequest:
    with current_container().unit_of_work() as uow:
        return uow.requests.get(account_id(), request_id)


def _detail(privacy_request: PrivacyRequest) -> dict:
    """The request a command left, with its audit trail up to the same revision: the history is read again, and a
    reply recorded since must not show in the trail while its service shows unanswered."""
    history = current_container().event_store.load(privacy_request.id)
    return request_view(privacy_request, [envelope for envelope in history
                                          if envelope.aggregate_version <= privacy_request.revision],
                        current_container().clock())
