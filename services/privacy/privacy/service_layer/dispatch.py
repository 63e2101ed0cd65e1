"""Which handler takes which message: one per command, any number per event (the message bus reads these)."""
from __future__ import annotations

from privacy.domain.commands import (
    ConfirmSubject, ExpireExport, LiftRestriction, ReceivePrivacyRequest, RecordReply, RejectPrivacyRequest,
    ShredRequestRecord, TimeOutRequest, VerifyErasure,
)
from privacy.service_layer import handlers

COMMAND_HANDLERS = {
    ReceivePrivacyRequest: handlers.receive_request,
    ConfirmSubject: handlers.confirm_subject,
    RejectPrivacyRequest: handlers.reject_request,
    LiftRestriction: handlers.lift_restriction,
    TimeOutRequest: handlers.time_out_request,
    ExpireExport: handlers.expire_export,
    ShredRequestRecord: handlers.shred_request_record,
    RecordReply: handlers.record_reply,
    VerifyErasure: handlers.verify_erasure,
}

EVENT_HANDLERS: dict = {}  # the services' replies come as RecordReply, naming the topic's producer
