"""Messages to a contact (issue 12): an e-mail to one of its addresses, queued, then sent or failed.

The address, subject, body and attachment names are sealed with the contact's key: erasing the contact makes
its messages unreadable too. Every event carries the whole message, so the newest alone is its state.
A message is refused when its address has bounced, or when it is marketing and the address unsubscribed.
"""
from __future__ import annotations

import uuid
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import Conflict, InvalidInput, NotFound
from crm_platform.input_guard import text_problem

from contacts.domain.events import CONTACT_SUBJECT

QUEUED, SENT, FAILED = STATUSES = ("queued", "sent", "failed")
MAX_SUBJECT = 200
MAX_BODY = 50_000
MAX_ATTACHMENTS = 10
MAX_ATTACHMENTS_BYTES = 10 * 2**20  # what most receiving servers accept once base64 has grown it by a third


class MessageNotFound(NotFound):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"message {message_id} does not exist on this contact", message_id=message_id)


class EmailBounced(Conflict):
    """The address's deliverability is `bounced`: mail to it does not arrive."""

    title = "E-mail address bounced"
    slug = "email-bounced"

    def __init__(self, address_index: int) -> None:
        super().__init__("mail to this address bounced; correct the address or choose another one with `to`",
                         field="to", email_index=address_index)


class EmailUnsubscribed(Conflict):
    """A marketing message to an address whose subscription status is `unsubscribed`."""

    title = "E-mail address unsubscribed"
    slug = "email-unsubscribed"

    def __init__(self, address_index: int) -> None:
        super().__init__("the address is unsubscribed: only a transactional message (marketing: false) may be sent "
                         "to it", field="to", email_index=address_index)


@dataclass(frozen=True)
class MessageAttachment:
    """A file of the contact sent with a message, as it was when the message was queued."""

    attachment_id: str
    file_name: str
    content_type: str
    size: int


class MessageEvent(DomainEvent):
    aggregate_id_field = "message_id"
    personal_fields = ("to", "subject_line", "body", "attachments")
    data_subject = CONTACT_SUBJECT


@dataclass(frozen=True)
class MessageState(MessageEvent):
    """The whole message after the change (`attachments`: MessageAttachment fields, as mappings)."""

    message_id: str
    account_id: str
    contact_id: str
    to: str
    subject_line: str  # `subject` would hide DomainEvent.subject(), the key it is sealed with
    body: str
    marketing: bool
    attachments: list
    created_at: str
    status: str
    reason: str | None = None  # why it failed (crm_platform.mail's outcome reasons)
    attempts: int = 0
    finished_at: str | None = None  # when it was sent or failed


@dataclass(frozen=True)
class MessageQueued(MessageState):
    """Accepted and handed to the mail outbox."""


@dataclass(frozen=True)
class MessageSent(MessageState):
    """The receiving server accepted it."""


@dataclass(frozen=True)
class MessageFailed(MessageState):
    """Refused for good (`rejected`: the address bounced) or given up after retries (`undeliverable`)."""


@dataclass(frozen=True)
class Recipient:
    """The address a message goes to, and its place in the contact's `emails`."""

    address: str
    index: int


class Message(Aggregate):
    aggregate_type = "Message"
    event_classes = (MessageQueued, MessageSent, MessageFailed)
    latest_event_is_state = True
    not_found_error = MessageNotFound

    def __init__(self, message_id: str, account_id: str) -> None:
        super().__init__(message_id, account_id)
        self.state: MessageState | None = None

    @property
    def gone(self) -> bool:
        return self.state is None

    @property
    def contact_id(self) -> str:
        return self.state.contact_id if self.state else ""

    @property
    def status(self) -> str:
        return self.state.status if self.state else ""

    @classmethod
    def queue(cls, account_id: str, contact_id: str, to: Recipient, subject: str, body: str, marketing: bool,
              attachments: list[MessageAttachment] = (), message_id: str | None = None) -> "Message":
        message = cls(message_id or str(uuid.uuid4()), account_id)
        files = [dataclasses.asdict(a) for a in attachments]
        message._record(MessageQueued(message.id, account_id, contact_id, to.address, checked_subject(subject),
                                      checked_body(body), bool(marketing), files, _now(), QUEUED))
        return message

    def sent(self, attempts: int, at: datetime) -> bool:
        """Record that it was sent; False (nothing recorded) if its outcome is known already."""
        return self._finish(MessageSent, SENT, None, attempts, at)

    def failed(self, reason: str, attempts: int, at: datetime) -> bool:
        """Record that it failed; False (nothing recorded) if its outcome is known already."""
        return self._finish(MessageFailed, FAILED, reason, attempts, at)

    def _finish(self, event_class: type[MessageState], status: str, reason: str | None, attempts: int,
                at: datetime) -> bool:
        if self.state is None:
            raise MessageNotFound(self.id)
        if self.state.status != QUEUED:
            return False
        fields = {**dataclasses.asdict(self.state), "status": status, "reason": reason, "attempts": attempts,
                  "finished_at": _iso(at)}
        self._record(event_class(**fields))
        return True

    def _apply(self, event: MessageState) -> None:
        self.state = event


def recipient(emails: list[dict], to: str | None, marketing: bool) -> Recipient:
    """The contact's address the message goes to: `to` if it is one of them (case aside), else the primary one.

    InvalidInput naming `to` if the contact has no address or `to` is not one of its; EmailBounced,
    EmailUnsubscribed (marketing) if the address cannot receive it."""
    if not emails:
        raise InvalidInput("the contact has no e-mail address", errors={"to": ["the contact has no e-mail address"]})
    if to is None:
        index = next((i for i, email in enumerate(emails) if email.get("primary")), 0)
    else:
        wanted = to.strip().casefold()
        index = next((i for i, email in enumerate(emails) if email["address"].casefold() == wanted), -1)
        if index < 0:
            raise InvalidInput("not an address of the contact",
                               errors={"to": ["not one of the contact's e-mail addresses"]})
    email = emails[index]
    if email.get("deliverability") == "bounced":
        raise EmailBounced(index)
    if marketing and email.get("subscription_status") == "unsubscribed":
        raise EmailUnsubscribed(index)
    return Recipient(email["address"], index)


def check_attachments(attachments: list[MessageAttachment]) -> None:
    """At most MAX_ATTACHMENTS files of MAX_ATTACHMENTS_BYTES together; InvalidInput naming `attachment_ids`."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput("too many attachments", errors={"attachment_ids": [f"at most {MAX_ATTACHMENTS} files"]})
    total = sum(a.size for a in attachments)
    if total > MAX_ATTACHMENTS_BYTES:
        raise InvalidInput("attachments too large", errors={"attachment_ids": [
            f"the files add up to {total} bytes; at most {MAX_ATTACHMENTS_BYTES} bytes (10 MiB) together"]})


def checked_subject(subject: str) -> str:
    """A subject on one line (a CR or LF would let it forge mail headers), 1 to MAX_SUBJECT characters."""
    problem = text_problem(subject or "")
    if problem is None and ("\r" in subject or "\n" in subject):
        problem = "must be one line (no carriage return or line feed)"
    subject = (subject or "").strip()
    if problem is None and not 1 <= len(subject) <= MAX_SUBJECT:
        problem = f"1 to {MAX_SUBJECT} characters"
    if problem is not None:
        raise InvalidInput("invalid subject", errors={"subject": [problem]})
    return subject


def checked_body(body: str) -> str:
    problem = text_problem(body or "")
    if problem is None and not (body.strip() and len(body) <= MAX_BODY):
        problem = f"1 to {MAX_BODY} characters"
    if problem is not None:
        raise InvalidInput("invalid body", errors={"body": [problem]})
    return body


def _now() -> str:
    return _iso(datetime.now(timezone.utc))


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
