"""Commands to the privacy service (imperative): what a caller or a sweep asks for."""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.contracts.privacy import SubjectDataExportedReply, SubjectErasedReply, SubjectRestrictedReply


@dataclass(frozen=True)
class ReceivePrivacyRequest:
    """About a contact, or about whoever holds an email or a phone number (the contacts found then wait for
    confirmation)."""

    account_id: str
    type: str  # access, portability, erasure or restriction
    contact_id: str | None
    requester: str
    reason: str
    email: str | None = None
    phone: str | None = None  # E.164, normalised at the edge


@dataclass(frozen=True)
class LiftRestriction:
    """End a completed restriction of processing: the services allow edits of the subject again."""

    account_id: str
    request_id: str


@dataclass(frozen=True)
class ConfirmSubject:
    """These contacts, among those listed for a request by email, are the subject."""

    account_id: str
    request_id: str
    contact_ids: tuple[str, ...]


@dataclass(frozen=True)
class RejectPrivacyRequest:
    account_id: str
    request_id: str
    why: str  # privacy.domain.requests.REJECTIONS


@dataclass(frozen=True)
class TimeOutRequest:
    """Complete a request still waiting for replies past the timeout, as partially completed."""

    account_id: str
    request_id: str


@dataclass(frozen=True)
class ExpireExport:
    """Make a request's export unreadable (its key shredded) and free its space."""

    account_id: str
    request_id: str


@dataclass(frozen=True)
class ShredRequestRecord:
    """Shred the personal data of a request ended longer ago than its retention (PRIVACY_REQUEST_RETENTION_DAYS)."""

    account_id: str
    request_id: str


@dataclass(frozen=True)
class VerifyErasure:
    """Search every database and topic for the values known of an ended erasure's subject, and record it."""

    account_id: str
    request_id: str


@dataclass(frozen=True)
class RecordReply:
    """A service's reply, as read from the topic of `producer` (the registry's producer of that topic): only a
    reply naming its own topic's producer is taken."""

    reply: SubjectErasedReply | SubjectDataExportedReply | SubjectRestrictedReply
    producer: str
