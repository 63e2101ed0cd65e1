"""Mail from the services: a sealed outbox in each service's database, one dispatcher sending it over SMTP.

A service enqueues an OutgoingMail (`ServiceContainer.mail_outbox()`), and runs `ServiceContainer.mail_loop`
in its worker, which sends due mails and reports each MailOutcome to the service. See docs/mail.md.
"""
from crm_platform.mail.dispatcher import MailDispatcher
from crm_platform.mail.message import (FAILED, INVALID, PROCESSING_RESTRICTED, PURPOSES, REJECTED, SENT,
                                       SUBJECT_ERASED, UNDELIVERABLE, MailAttachment, MailOutcome, OutgoingMail)
from crm_platform.mail.outbox import MailOutbox
from crm_platform.mail.smtp_sender import PermanentFailure, SmtpSender, TransientFailure, message_id

__all__ = ["MailAttachment", "OutgoingMail", "MailOutcome", "MailOutbox", "SmtpSender", "MailDispatcher",
           "PermanentFailure", "TransientFailure", "message_id", "PURPOSES", "SENT", "FAILED", "REJECTED",
           "UNDELIVERABLE", "SUBJECT_ERASED", "INVALID", "PROCESSING_RESTRICTED"]
