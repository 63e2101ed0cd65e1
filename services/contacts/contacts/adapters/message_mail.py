"""Messages to contacts as mails of the kernel's outbox (crm_platform.mail), and the outbox's outcomes back as
commands.

The mail's id is the message's, so queueing a message twice sends it once; it is sealed under the contact's
key, so erasing the contact before it goes leaves nothing to send. The reference carries ids only.
"""
from __future__ import annotations

from crm_platform.mail import MailAttachment, MailOutbox, MailOutcome, OutgoingMail
from crm_platform.message_bus import MessageBus

from contacts.domain import commands
from contacts.domain.events import data_subject
from contacts.domain.messages import Message, MessageAttachment

REFERENCE_KIND = "contact_message"


class MessageMail:
    """The contacts service's MessageMailer on the outbox of its own database."""

    def __init__(self, outbox: MailOutbox) -> None:
        self._outbox = outbox

    def prepare(self, message: Message, files: list[tuple[MessageAttachment, bytes]]) -> OutgoingMail:
        state = message.state
        return OutgoingMail(
            mail_id=message.id, account_id=message.account_id, subject_key=data_subject(state.contact_id),
            to=state.to, subject=state.subject_line, text=state.body,
            attachments=tuple(MailAttachment(file.file_name, file.content_type, data) for file, data in files),
            purpose="marketing" if state.marketing else "transactional",
            reference={"kind": REFERENCE_KIND, "contact_id": state.contact_id, "message_id": message.id})

    def enqueue(self, mail: OutgoingMail) -> bool:
        return self._outbox.enqueue(mail)

    def knows(self, message_id: str) -> bool:
        return self._outbox.status(message_id) is not None


class MessageOutcomes:
    """The mail loop's `on_outcome`: a message's outcome recorded on it (idempotent); other mails passed over."""

    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    def __call__(self, outcome: MailOutcome) -> None:
        command = outcome_command(outcome)
        if command is not None:
            self._bus.handle(command)


def outcome_command(outcome: MailOutcome) -> commands.RecordMessageOutcome | None:
    """The command recording a message's outcome; None for a mail that is not a message to a contact."""
    reference = outcome.reference or {}
    if reference.get("kind") != REFERENCE_KIND:
        return None
    return commands.RecordMessageOutcome(outcome.account_id, reference["contact_id"], reference["message_id"],
                                         outcome.status, outcome.reason, outcome.attempts, outcome.at)
