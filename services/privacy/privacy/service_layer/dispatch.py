"""Which handler takes which message: one per command, any number per event (the message bus reads these)."""
from __future__ import annotations

from crm_platform.contracts.privacy import SubjectDataExportedReply, SubjectErasedReply

from privacy.domain.commands import (
    ConfirmSubject, ExpireExport, ReceivePrivacyRequest, RejectPrivacyRequest, ShredRequestRecord, TimeOutRequest,
)
from privacy.service_layer import handlers

COMMAND_HANDLERS = {
    ReceivePrivacyRequest: handlers.receive_request,
    ConfirmSubject: handlers.confirm_subject,
    RejectPrivacyRequest: handlers.reject_request,
    TimeOutRequest: handlers.time_out_request,
    ExpireExport: handlers.expire_export,
    ShredRequestRecord: handlers.shred_request_record,
}

EVENT_HANDLERS = {
    SubjectErasedReply: [handlers.record_reply],
    SubjectDataExportedReply: [handlers.record_reply],
}
