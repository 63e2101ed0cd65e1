"""ReminderMailer on the kernel's mail outbox (crm_platform.mail): a reminder's e-mail to the account's user,
sealed under the key the task's title and notes are sealed under (its contact's, or the task's own): the mail
says what the task says about that contact, so erasing the contact makes a mail not sent yet unreadable."""
from __future__ import annotations

import logging

from crm_platform.mail import MailOutbox, MailOutcome, OutgoingMail

from workflows.service_layer.ports import ReminderMailer

log = logging.getLogger(__name__)


class OutboxReminderMailer(ReminderMailer):
    def __init__(self, outbox: MailOutbox) -> None:
        self._outbox = outbox

    def queue(self, mail_id: str, account_id: str, subject_key: str, to: str, subject: str, text: str,
              reference: dict) -> bool:
        return self._outbox.enqueue(OutgoingMail(
            mail_id=mail_id, account_id=account_id, subject_key=subject_key, to=to, subject=subject, text=text,
            purpose="notification", reference=reference))


def note_reminder_mail_outcome(outcome: MailOutcome) -> None:
    """A reminder's e-mail went or failed: logged (ids only); nothing else depends on it."""
    level = logging.INFO if outcome.status == "sent" else logging.WARNING
    log.log(level, "task reminder e-mail %s", outcome.status, extra={
        "mail_id": outcome.mail_id, "account_id": outcome.account_id, "reason": outcome.reason,
        "attempts": outcome.attempts, "task_id": outcome.reference.get("task_id")})
