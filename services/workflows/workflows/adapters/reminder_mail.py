"""ReminderMailer on the kernel's mail outbox (crm_platform.mail): a reminder's e-mail to the account's user,
sealed under the key the task's title and notes are sealed under (its contact's, or the task's own): the mail
says what the task says about that contact, so erasing the contact makes a mail not sent yet unreadable.

A reminder of a task about a contact who restricted processing (GDPR Art. 18) by the time it goes is sent as
`restricted_reminder` makes it: that a task linked to a restricted contact is due, and nothing of the task's
title, notes, assignee or link. The reminder is the user's own notice of their work, so it still goes; but
writing the contact's data into a mail is processing it, which the restriction forbids. The dispatcher decides
just before SMTP (crm_platform.mail.dispatcher), so a restriction applied after the mail was queued counts too.
"""
from __future__ import annotations

import dataclasses
import logging

from crm_platform.mail import MailOutbox, MailOutcome, OutgoingMail

from workflows.service_layer.ports import ReminderMailer

log = logging.getLogger(__name__)

RESTRICTED_SUBJECT = "Rappel : une tâche liée à un contact dont le traitement est limité"
RESTRICTED_TEXT = ("Une tâche liée à un contact dont le traitement des données est limité (RGPD, art. 18) arrive à "
                   "échéance.\nSes détails ne sont pas repris dans cet e-mail : consultez la tâche dans le CRM.\n")


class OutboxReminderMailer(ReminderMailer):
    def __init__(self, outbox: MailOutbox) -> None:
        self._outbox = outbox

    def queue(self, mail_id: str, account_id: str, subject_key: str, to: str, subject: str, text: str,
              reference: dict, about_contact_id: str | None = None) -> bool:
        return self._outbox.enqueue(OutgoingMail(
            mail_id=mail_id, account_id=account_id, subject_key=subject_key, to=to, subject=subject, text=text,
            purpose="notification", reference=reference, about_contact_id=about_contact_id))


def restricted_reminder(mail: OutgoingMail) -> OutgoingMail:
    """The reminder without anything about the task or its contact (the mail dispatcher's `restricted_notice`)."""
    return dataclasses.replace(mail, subject=RESTRICTED_SUBJECT, text=RESTRICTED_TEXT, html=None, attachments=())


def note_reminder_mail_outcome(outcome: MailOutcome) -> None:
    """A reminder's e-mail went or failed: logged (ids only); nothing else depends on it."""
    level = logging.INFO if outcome.status == "sent" else logging.WARNING
    log.log(level, "task reminder e-mail %s", outcome.status, extra={
        "mail_id": outcome.mail_id, "account_id": outcome.account_id, "reason": outcome.reason,
        "attempts": outcome.attempts, "task_id": outcome.reference.get("task_id")})
