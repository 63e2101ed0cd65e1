"""`privacy.events`, produced by the privacy service, and the replies every service holding personal data
publishes on its own topic (issue 13).

The protocol, for one request of one account about one person (a data subject):

1. privacy records `SubjectExportRequested`, `ErasureRequested` or `ProcessingRestrictionApplied` naming the
   subject's contact ids (every contact of the merge family privacy knows of) and the services asked to answer
   (the registry's services with `personal_data = true`);
2. each such service, on its worker, exports or erases what it holds of those contacts (and of contacts it
   knows were merged with them), or restricts their processing (Art. 18: edits refused), then records ONE
   reply event of aggregate type `PrivacyReply`, id = the request id, in its own event store:
   `SubjectDataExported`, `SubjectErased` or `SubjectRestricted`. Recording the reply with
   expected version 0 makes a redelivered request a no-op once answered (the work itself is idempotent);
3. privacy consumes the replies from the services' topics and completes the request when every service
   answered, or times it out into `partially_completed` naming the services that did not.

A restriction is lifted by `ProcessingRestrictionLifted` (no reply); an erasure of the contacts ends it too.

No payload here carries personal data: contact ids, key ids (subject names), counts, dates and legal bases.
Export parts travel through the exchange blob store (crm_platform.privacy_exchange), sealed under
`privacy-export:<request id>`, which privacy shreds when the export expires.
"""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields, validate

from crm_platform.aggregates import DomainEvent
from crm_platform.contracts import EventContract, PayloadSchema, SealedField, Topic, id_list

PRIVACY_TOPIC = "privacy.events"  # its Topic (with privacy's own events) is declared by the privacy service
PRIVACY_REQUEST_AGGREGATE_TYPE = "PrivacyRequest"
PRIVACY_REPLY_AGGREGATE_TYPE = "PrivacyReply"
EXPORT_SUBJECT = "privacy-export:{request_id}"  # the key sealing a request's export parts and its ZIP

ERASED, ANONYMISED, RETAINED, NOTHING_HELD = "erased", "anonymised", "retained", "nothing_held"
ERASURE_OUTCOMES = (ERASED, ANONYMISED, RETAINED, NOTHING_HELD)
RESTRICTED = "restricted"  # a restriction's outcome: the service refuses edits of the subject until it is lifted


# --- privacy.events: what privacy asks -------------------------------------------------------------------------

class _SubjectRequestPayload(PayloadSchema):
    contact_ids = id_list(validate=validate.Length(min=1))
    services = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    requested_at = fields.String(required=True)


class PrivacyRequestEvent(DomainEvent):
    aggregate_id_field = "request_id"


@dataclass(frozen=True)
class SubjectRequest(PrivacyRequestEvent):
    """The fields of every question about a subject (_SubjectRequestPayload); never published as such."""

    request_id: str
    account_id: str
    contact_ids: list
    services: list
    requested_at: str


@dataclass(frozen=True)
class SubjectExportRequested(SubjectRequest):
    """Each service writes what it holds of these contacts as one export part, and replies SubjectDataExported."""


@dataclass(frozen=True)
class ErasureRequested(SubjectRequest):
    """Each service erases (or retains under a legal basis) what it holds of these contacts, and replies
    SubjectErased."""


@dataclass(frozen=True)
class ProcessingRestrictionApplied(SubjectRequest):
    """Each service refuses edits of these contacts from now on (Art. 18; crm_platform.processing_restrictions)
    and replies SubjectRestricted."""


@dataclass(frozen=True)
class ProcessingRestrictionLifted(PrivacyRequestEvent):
    """The restriction of that request lifted: each service allows edits of these contacts again (unless another
    request still restricts them). No reply: the request is complete already."""

    request_id: str
    account_id: str
    contact_ids: list
    lifted_at: str


SUBJECT_REQUEST_CLASSES = (SubjectExportRequested, ErasureRequested, ProcessingRestrictionApplied)
RESTRICTION_CLASSES = (ProcessingRestrictionApplied, ProcessingRestrictionLifted)


class _RestrictionLiftedPayload(PayloadSchema):
    contact_ids = id_list(validate=validate.Length(min=1))
    lifted_at = fields.String(required=True)


# the start of privacy.events' contract: the privacy service declares the Topic with these and its own events
PRIVACY_EVENT_CONTRACTS = (
    EventContract("SubjectExportRequested", _SubjectRequestPayload),
    EventContract("ErasureRequested", _SubjectRequestPayload),
    EventContract("ProcessingRestrictionApplied", _SubjectRequestPayload),
    EventContract("ProcessingRestrictionLifted", _RestrictionLiftedPayload),
)


# --- the replies, on each answering service's own topic ------------------------------------------------------

class _RetainedItemSchema(PayloadSchema):
    item = fields.String(required=True, metadata={"description": "kind:id, e.g. invoice:<id>"})
    legal_basis = fields.String(required=True)
    retain_until = fields.String(required=True, metadata={"description": "ISO date"})


class SubjectErasedPayload(PayloadSchema):
    service = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(ERASURE_OUTCOMES))
    keys_destroyed = fields.List(fields.String(), required=True)
    retained = fields.List(fields.Nested(_RetainedItemSchema), required=True)
    items_erased = fields.Integer(required=True)
    completed_at = fields.String(required=True)


class SubjectDataExportedPayload(PayloadSchema):
    service = fields.String(required=True)
    part_blob_id = fields.String(required=True, allow_none=True,
                                 metadata={"description": "the part in the exchange store; null: nothing held"})
    item_count = fields.Integer(required=True)
    completed_at = fields.String(required=True)


class SubjectRestrictedPayload(PayloadSchema):
    service = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf((RESTRICTED,)))
    completed_at = fields.String(required=True)


class PrivacyReplyEvent(DomainEvent):
    aggregate_id_field = "request_id"


@dataclass(frozen=True)
class SubjectErasedReply(PrivacyReplyEvent):
    request_id: str
    account_id: str
    service: str
    outcome: str
    keys_destroyed: list
    retained: list  # [{"item": "invoice:<id>", "legal_basis": ..., "retain_until": "YYYY-MM-DD"}]
    items_erased: int
    completed_at: str

    @classmethod
    def event_type(cls) -> str:
        return "SubjectErased"


@dataclass(frozen=True)
class SubjectDataExportedReply(PrivacyReplyEvent):
    request_id: str
    account_id: str
    service: str
    part_blob_id: str | None
    item_count: int
    completed_at: str

    @classmethod
    def event_type(cls) -> str:
        return "SubjectDataExported"


@dataclass(frozen=True)
class SubjectRestrictedReply(PrivacyReplyEvent):
    request_id: str
    account_id: str
    service: str
    outcome: str  # RESTRICTED
    completed_at: str

    @classmethod
    def event_type(cls) -> str:
        return "SubjectRestricted"


PRIVACY_REPLY_CLASSES = (SubjectErasedReply, SubjectDataExportedReply, SubjectRestrictedReply)
# every topic of a service holding personal data lists these among its events
PRIVACY_REPLY_CONTRACTS = (
    EventContract("SubjectErased", SubjectErasedPayload),
    EventContract("SubjectDataExported", SubjectDataExportedPayload),
    EventContract("SubjectRestricted", SubjectRestrictedPayload),
)



# --- privacy.events: privacy's own events about a request (aggregate PrivacyRequest, id = the request id) ---------

class PrivacyRequestReceivedPayload(PayloadSchema):
    type = fields.String(required=True, validate=validate.OneOf(("access", "portability", "erasure", "restriction")))
    contact_id = fields.String(load_default=None, metadata={"description": "the data subject as the requester named "
                                                                           "them (absent: named by email or phone)"})
    received_at = fields.String(required=True)
    deadline = fields.String(required=True, metadata={"description": "one calendar month after receipt"})
    email_hash = fields.String(load_default=None, allow_none=True, metadata={
        "description": "keyed hash (HMAC-SHA256) of the email naming the subject, if named by email"})
    phone_hash = fields.String(load_default=None, allow_none=True, metadata={
        "description": "keyed hash (HMAC-SHA256) of the phone number (E.164) naming the subject, if named by phone"})
    personal = SealedField(required=True, metadata={
        "description": "requester, reason, and the email or phone naming the subject if any "
                       "(key privacy-request:<id>)"})


class SubjectCandidatesListedPayload(PayloadSchema):
    contact_ids = id_list(validate=validate.Length(min=1))


class PrivacyRequestRejectedPayload(PayloadSchema):
    why = fields.String(required=True, validate=validate.OneOf(
        ("no_matching_contact", "not_the_subject", "identity_not_verified", "not_confirmed_by_deadline")))
    rejected_at = fields.String(required=True)


class ReplyRecordedPayload(PayloadSchema):
    service = fields.String(required=True)
    reply = fields.Dict(required=True, metadata={"description": "the service's reply payload, as it published it"})
    answered_at = fields.String(required=True)


class ExportReadyPayload(PayloadSchema):
    blob_id = fields.String(required=True, metadata={"description": "the ZIP in the exchange store"})
    size = fields.Integer(required=True)
    expires_at = fields.String(required=True)


class ExportAssemblyFailedPayload(PayloadSchema):
    attempt = fields.Integer(required=True, metadata={"description": "how many attempts failed so far"})
    why = fields.String(required=True, validate=validate.OneOf(("unreadable", "export_erased")))
    failed_at = fields.String(required=True)


class ExportExpiredPayload(PayloadSchema):
    expired_at = fields.String(required=True)


class RequestRecordShreddedPayload(PayloadSchema):
    shredded_at = fields.String(required=True, metadata={
        "description": "the request's key shredded: requester, reason and email unreadable from then on"})


class SubjectValuesKeptPayload(PayloadSchema):
    count = fields.Integer(required=True, metadata={
        "description": "how many values known of the erasure's subject were kept for the scan after it"})
    kept_at = fields.String(required=True)
    personal = SealedField(required=True, metadata={
        "description": "the values (key privacy-verification:<id>, shredded after the last scan)"})


class ErasureVerifiedPayload(PayloadSchema):
    result = fields.String(required=True, validate=validate.OneOf(
        ("passed", "failed", "no_values_known", "unverifiable")))
    readable_occurrences = fields.Integer(required=True)
    places = fields.List(fields.String(), required=True, metadata={
        "description": "database.collection or topic/partition/offset of each occurrence (at most 50)"})
    values_checked = fields.Integer(required=True)
    databases = fields.List(fields.String(), required=True)
    topics = fields.List(fields.String(), required=True)
    documents_scanned = fields.Integer(required=True)
    records_scanned = fields.Integer(required=True)
    replies_seen = fields.Integer(required=True)
    missing_services = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(("completed", "partially_completed")))
    final = fields.Boolean(required=True, metadata={"description": "the last scan: the values are shredded next"})
    verified_at = fields.String(required=True)
    next_scan_at = fields.String(load_default=None, allow_none=True, metadata={
        "description": "a scan that found something is made again then"})


class ErasureScanFailedPayload(PayloadSchema):
    attempt = fields.Integer(required=True)
    why = fields.String(required=True, validate=validate.OneOf(("scan_error", "timed_out")))
    failed_at = fields.String(required=True)


class SubjectValuesShreddedPayload(PayloadSchema):
    shredded_at = fields.String(required=True)


class PrivacyRequestCompletedPayload(PayloadSchema):
    status = fields.String(required=True, validate=validate.OneOf(("completed", "partially_completed")))
    missing_services = fields.List(fields.String(), required=True)
    completed_at = fields.String(required=True)
    failed_parts = fields.List(fields.String(), load_default=list, metadata={
        "description": "services whose export part could not be put in the ZIP"})


PRIVACY_EVENTS = Topic(PRIVACY_TOPIC, producer="privacy", events=(
    *PRIVACY_EVENT_CONTRACTS,
    EventContract("PrivacyRequestReceived", PrivacyRequestReceivedPayload),
    EventContract("SubjectCandidatesListed", SubjectCandidatesListedPayload),
    EventContract("PrivacyRequestRejected", PrivacyRequestRejectedPayload),
    EventContract("ReplyRecorded", ReplyRecordedPayload),
    EventContract("ExportReady", ExportReadyPayload),
    EventContract("ExportAssemblyFailed", ExportAssemblyFailedPayload),
    EventContract("ExportExpired", ExportExpiredPayload),
    EventContract("PrivacyRequestCompleted", PrivacyRequestCompletedPayload),
    EventContract("RequestRecordShredded", RequestRecordShreddedPayload),
    EventContract("SubjectValuesKept", SubjectValuesKeptPayload),
    EventContract("ErasureVerified", ErasureVerifiedPayload),
    EventContract("ErasureScanFailed", ErasureScanFailedPayload),
    EventContract("SubjectValuesShredded", SubjectValuesShreddedPayload),
))
