"""What a service hands the mail outbox (OutgoingMail) and what it hears back (MailOutcome).

An OutgoingMail is checked when it is made: a header value with CR, LF or NUL (header injection), an address
that is not one plain address, text no service stores (crm_platform.input_guard: NUL and the other
non-whitespace controls, unpaired surrogates, which the outbox could not seal), or an unknown purpose never
reaches the outbox, let alone SMTP. The error is a typed InvalidInput naming the field, so an API that builds
a mail from a request answers 422.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from crm_platform.errors import InvalidInput
from crm_platform.input_guard import text_problem

PURPOSES = ("transactional", "marketing", "notification")
SENT, FAILED = "sent", "failed"
# Why a mail failed: the server refused it for good (treat the address as bounced), retries ran out, the
# person was erased before it went, or the stored mail could not be turned into a message (never for a mail
# checked here on enqueue: it would take a stored document changed by hand), or it was marketing to a person
# who restricted processing (GDPR Art. 18) after it was queued.
REJECTED, UNDELIVERABLE, SUBJECT_ERASED, INVALID = "rejected", "undeliverable", "subject_erased", "invalid"
PROCESSING_RESTRICTED = "processing_restricted"
FAILURE_REASONS = (REJECTED, UNDELIVERABLE, SUBJECT_ERASED, INVALID, PROCESSING_RESTRICTED)

MAX_SUBJECT = 998  # RFC 5322's line limit: a longer subject would be folded into something else
MAX_ADDRESS = 254  # RFC 5321's path limit
# The outbox keeps a mail in one document (16 MiB at most), and many servers refuse more than 10-25 MB
MAX_ATTACHMENT_BYTES = 10 * 2**20
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$")
# One addr-spec, no display name, comments, lists or routes: the local part of atext and dots (or a
# quoted-string-free variant of it) and a domain of labels; RFC 6531 UTF-8 letters are accepted.
_ADDRESS = re.compile(r"^[^\s@<>()\[\],;:\"\\]{1,64}@[^\s@<>()\[\],;:\"\\.]+(\.[^\s@<>()\[\],;:\"\\.]+)+$")
_HEADER_BREAKERS = re.compile(r"[\r\n\x00]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes

    def __post_init__(self) -> None:
        if not self.filename or _HEADER_BREAKERS.search(self.filename) or _CONTROL.search(self.filename) \
                or text_problem(self.filename) or len(self.filename) > 255:
            _invalid("attachments.filename", "must be 1 to 255 characters of valid Unicode without control characters")
        if not _CONTENT_TYPE.match(self.content_type.lower()):
            _invalid("attachments.content_type", "must be a media type such as application/pdf")
        if not isinstance(self.data, (bytes, bytearray)):
            _invalid("attachments.data", "must be bytes")


@dataclass(frozen=True)
class OutgoingMail:
    mail_id: str  # idempotency key: enqueueing an id already queued changes nothing
    account_id: str
    subject_key: str  # the crypto-shredding subject sealing to/subject/text/html/attachments, e.g. "contact:<id>"
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[MailAttachment, ...] = ()
    purpose: str = "transactional"
    reference: dict = field(default_factory=dict)  # opaque, no personal data: handed back in the outcome
    # a notification to the account about one of its contacts: that contact's id (kept in clear, an id only), so
    # that the dispatcher sends it without their data if they restricted processing (Art. 18; MailDispatcher)
    about_contact_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("mail_id", "account_id", "subject_key"):
            if not isinstance(getattr(self, name), str) or not _ID.match(getattr(self, name)):
                _invalid(name, "must be 1 to 200 letters, digits or ._:@/- characters")
        if self.about_contact_id is not None and (not isinstance(self.about_contact_id, str)
                                                  or not _ID.match(self.about_contact_id)):
            _invalid("about_contact_id", "must be 1 to 200 letters, digits or ._:@/- characters")
        if not isinstance(self.to, str) or len(self.to) > MAX_ADDRESS or not _ADDRESS.match(self.to) \
                or text_problem(self.to):
            _invalid("to", "must be one e-mail address such as name@example.com")
        if not isinstance(self.subject, str) or _HEADER_BREAKERS.search(self.subject) \
                or _CONTROL.search(self.subject) or text_problem(self.subject) or len(self.subject) > MAX_SUBJECT:
            _invalid("subject", f"must be at most {MAX_SUBJECT} characters of valid Unicode on one line, without "
                                "control characters")
        for name in ("text", "html"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or text_problem(value)):
                _invalid(name, "must be text without NUL or other control characters but whitespace, and valid "
                               "Unicode")
        if not isinstance(self.attachments, tuple) or not all(isinstance(a, MailAttachment) for a in self.attachments):
            _invalid("attachments", "must be a tuple of MailAttachment")
        if sum(len(a.data) for a in self.attachments) > MAX_ATTACHMENT_BYTES:
            _invalid("attachments", f"must hold at most {MAX_ATTACHMENT_BYTES} bytes in all")
        if self.purpose not in PURPOSES:
            _invalid("purpose", f"must be one of {', '.join(PURPOSES)}")
        if not isinstance(self.reference, dict):
            _invalid("reference", "must be a dict")


@dataclass(frozen=True)
class MailOutcome:
    mail_id: str
    account_id: str
    reference: dict
    status: str  # "sent" | "failed"
    reason: str | None  # None when sent; "rejected" | "undeliverable" | "subject_erased" | "invalid"
    attempts: int
    at: datetime


def _invalid(name: str, message: str) -> None:
    raise InvalidInput(f"the mail's {name} {message}", {name: [message]})
