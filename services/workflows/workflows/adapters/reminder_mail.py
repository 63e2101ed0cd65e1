"""ReminderMailer on the kernel's mail outbox (crm_platform.mail): a reminder's e-mail to the account's user,
sealed under the account's subject key (the address is the account user's personal data)."""
from __future__ import annotations

import logging

from crm_platform.mail import MailOutbox, MailOutcome, OutgoingMail

from workflows.domain.workflow_settings import ACCOUNT_SUBJECT
from workflows.service_layer.ports import ReminderMailer

log = logging.getLogger(__name__)


class OutboxReminderMailer(ReminderMailer):
    def __init__(self, outbox: MailOutbox) -> None:
        self._outbox = outbox

    def queue(self, mail_id: str, account_id: str, to: str, subject: str, text: str, reference: dict) -> bool:
        return self._outbox.enqueue(OutgoingMail(
            mail_id=mail_id, account_id=account_id, subject_key=ACCOUNT_SUBJECT.format(account_id=account_id), to=to,
            subject=subject, text=text, purpose="notification", reference=reference))


def note_reminder_mail_outcome(outcome: MailOutcome) -> None:
    """A reminder's e-mail went or failed: logged (ids only); nothing else depends on it."""
    level = logging.INFO if outcome.status == "sent" else logging.WARNING
    log.log(level, "task reminder e-mail %s", outcome.status, extra={
        "mail_id": outcome.mail_id, "account_id": outcome.account_id, "reason": outcome.reason,
        "attempts": outcome.attempts, "task_id": outcome.reference.get("task_id")})
