"""Handlers of messages to a contact: queue one (recorded, then handed to the mail outbox), record its outcome.

The message is recorded before it is handed over: a mail is never sent without its record. The outbox takes the
message id as its mail id, so handing the same message over again changes nothing. A `rejected` outcome (the
receiving server refused the address for good) marks the address `bounced` on the contact first, then the
message failed: a repeated outcome finds the message finished and the address bounced, and does nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Protocol

from crm_platform.errors import InvalidInput, StaleRevision
from crm_platform.mail.message import FAILURE_REASONS as MAIL_FAILURES, REJECTED, UNDELIVERABLE
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck
from crm_platform.event_store import ConcurrencyConflict

from contacts.domain import commands
from contacts.domain.attachments import Attachment, AttachmentNotFound
from contacts.domain.messages import (
    FAILED, QUEUED, SENT, Message, MessageAttachment, MessageNotFound, check_attachments, recipient,
)
from contacts.service_layer import handlers
from contacts.service_layer.moving import attachment_of
from contacts.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

ATTACHMENT_GONE = "attachment_deleted"  # a message re-queued after its file was deleted: not sent without it
FAILURE_REASONS = (*MAIL_FAILURES, ATTACHMENT_GONE)  # every reason a message fails with
ATTEMPTS = 5  # concurrent writers on the contact before a bounce is left unmarked (logged)
MERGE_HOPS = 5  # a bounced address followed along merges at most this far


class MessageMailer(Protocol):
    """Turns a message into a mail and hands it to the mail outbox (adapters/message_mail.py)."""

    def prepare(self, message: Message, files: list[tuple[MessageAttachment, bytes]]) -> object:
        """The mail, checked (InvalidInput naming the field if the outbox would refuse it)."""

    def enqueue(self, mail: object) -> bool:
        """Queue the prepared mail; False if its id was queued already."""

    def knows(self, message_id: str) -> bool:
        """Whether the outbox holds the message's mail (queued, being sent, sent or failed)."""


def send_message(cmd: commands.SendMessage, uow: UnitOfWork, mailer: MessageMailer,
                 restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> Message:
    """The queued message; refused (typed errors) when its address cannot receive it, and a marketing one when
    the person restricted processing (Art. 18)."""
    if cmd.marketing:
        restrictions.refuse_edits(cmd.account_id, [cmd.contact_id])
    with uow:
        contact = uow.contacts.get(cmd.account_id, cmd.contact_id)  # the contact must exist in this account
        to = recipient(contact.details.get("emails") or [], cmd.to, cmd.marketing)
        attachments = _attachments(uow, cmd.account_id, cmd.contact_id, list(cmd.attachment_ids))
        files = [(MessageAttachment(a.id, a.file.file_name, a.file.content_type, a.file.size), a) for a in attachments]
        check_attachments([file for file, _ in files])
        contents = [(file, _content(uow, attachment)) for file, attachment in files]  # readable before recording
        message = Message.queue(cmd.account_id, cmd.contact_id, to, cmd.subject, cmd.body, cmd.marketing,
                                [file for file, _ in files])
        mail = mailer.prepare(message, contents)  # refused before anything is recorded
        uow.messages.add(message)
        uow.commit()
    mailer.enqueue(mail)
    return message


def requeue_message(cmd: commands.RequeueMessage, uow: UnitOfWork, mailer: MessageMailer) -> bool:
    """Hand a message still queued to the outbox if it does not hold it (the API's process stopped between
    recording and handing it over); whether it was handed over now. One whose files were deleted since fails."""
    with uow:
        message = uow.messages.find(cmd.account_id, cmd.message_id)
    if message is None or message.gone or message.status != QUEUED or mailer.knows(message.id):
        return False
    try:
        with uow:
            files = [(MessageAttachment(**a), a["attachment_id"]) for a in message.state.attachments]
            contents = [(file, _content(uow, attachment_of(uow, cmd.account_id, message.contact_id, attachment_id)))
                        for file, attachment_id in files]
    except AttachmentNotFound:
        record_message_outcome(commands.RecordMessageOutcome(
            cmd.account_id, message.contact_id, message.id, FAILED, ATTACHMENT_GONE, 0, utc_now()), uow)
        return False
    return mailer.enqueue(mailer.prepare(message, contents))


def record_message_outcome(cmd: commands.RecordMessageOutcome, uow: UnitOfWork) -> bool:
    """Record that the message was sent or failed; whether this call recorded it (False: known already, or the
    message is gone with its erased contact)."""
    bounce = cmd.status == FAILED and cmd.reason == REJECTED
    for _ in range(ATTEMPTS):
        if bounce:  # the address first, in writes of its own: then the message, read again
            with uow:
                message = uow.messages.find(cmd.account_id, cmd.message_id)
            if not _awaits_outcome(message, cmd):
                return False
            mark_bounced(uow, cmd.account_id, message.contact_id, message.state.to)
        try:
            with uow:
                message = uow.messages.find(cmd.account_id, cmd.message_id)
                if not _awaits_outcome(message, cmd):
                    return False
                recorded = message.sent(cmd.attempts, cmd.at) if cmd.status == SENT else \
                    message.failed(cmd.reason or UNDELIVERABLE, cmd.attempts, cmd.at)
                if recorded:
                    uow.commit()
                return recorded
        except ConcurrencyConflict:  # the same outcome recorded meanwhile: look again
            continue
    return False


def _awaits_outcome(message: Message | None, cmd: commands.RecordMessageOutcome) -> bool:
    """Whether the message is this contact's, still queued (not gone with its erased contact, nor finished)."""
    return message is not None and not message.gone and message.contact_id == cmd.contact_id \
        and message.status == QUEUED


def mark_bounced(uow: UnitOfWork, account_id: str, contact_id: str, address: str) -> bool:
    """Set the address's deliverability to `bounced` on the contact (or the contact it was merged into), as an
    ordinary change of the contact; whether this call changed it."""
    for _ in range(ATTEMPTS + MERGE_HOPS):
        with uow:
            contact = uow.contacts.find(account_id, contact_id)
        if contact is None:
            return False  # erased
        if contact.gone:
            if not contact.merged_into_id:
                return False
            contact_id = contact.merged_into_id
            continue
        emails = [dict(email) for email in contact.details.get("emails") or []]
        hit = [email for email in emails if email["address"].casefold() == address.casefold()]
        if not hit or all(email.get("deliverability") == "bounced" for email in hit):
            return False
        for email in hit:
            email["deliverability"] = "bounced"
        try:
            handlers.update_contact(commands.UpdateContact(account_id, contact_id, contact.revision, {"emails": emails},
                                                           allow_duplicates=True), uow)
            return True
        except (StaleRevision, ConcurrencyConflict):
            continue  # changed meanwhile: read it again
        except InvalidInput:  # the contact no longer passes its own rules: the bounce is not worth a stuck outbox
            log.warning("bounce not marked: the contact does not validate", extra={"contact_id": contact_id})
            return False
    log.warning("bounce not marked: the contact kept changing", extra={"contact_id": contact_id})
    return False


def message_of(uow: UnitOfWork, account_id: str, contact_id: str, message_id: str) -> Message:
    """A message of this live contact, read from its events."""
    with uow:
        uow.contacts.get(account_id, contact_id)
        message = uow.messages.get(account_id, message_id)
    if message.contact_id != contact_id:
        raise MessageNotFound(message_id)
    return message


def _attachments(uow: UnitOfWork, account_id: str, contact_id: str, attachment_ids: list[str]) -> list[Attachment]:
    """The contact's live attachments of these ids, each once; InvalidInput naming each id that is not one (by its
    place in the request)."""
    found, problems = [], {}
    for index, attachment_id in enumerate(attachment_ids):
        if attachment_id in attachment_ids[:index]:
            continue  # the same file is sent once
        try:
            found.append(attachment_of(uow, account_id, contact_id, attachment_id))
        except AttachmentNotFound:
            problems[str(index)] = ["not a file of this contact"]
    if problems:
        raise InvalidInput("unknown attachments", errors={"attachment_ids": problems})
    return found


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _content(uow: UnitOfWork, attachment: Attachment) -> bytes:
    _, chunks = uow.files.open(attachment.contact_id, attachment.file.blob_id)
    return b"".join(chunks)
