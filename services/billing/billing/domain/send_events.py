"""The fields every kind of document's send events share (InvoiceSendRequested, QuoteMailRequested,
CreditNoteSendRequested and their outcomes): each kind declares its own event classes (its published names, its
id field, its key) on these, so that the fields are written once. Built with keywords (domain/mailed_documents.py).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendRequestedFields:
    """A final document is to be mailed, a mail per recipient (domain/document_mail.py); the worker queues them from
    this event in the mail outbox, each under an id made of the send's. Addresses and texts sealed."""

    contact_id: str
    send_id: str
    lang: str
    recipients: int
    requested_at: str
    to: list
    mail_subject: str  # not `subject`: DomainEvent.subject() names the key sealing the event
    mail_text: str
    personal_fields = ("to", "mail_subject", "mail_text")


@dataclass(frozen=True)
class SentFields:
    """The mail to one recipient of a send was accepted by the SMTP server."""

    send_id: str
    recipient: int  # its place in the send's `to`
    attempts: int
    sent_at: str


@dataclass(frozen=True)
class SendFailedFields:
    """The mail to one recipient of a send failed for good (reason: crm_platform.mail's, such as `rejected`)."""

    send_id: str
    recipient: int
    reason: str
    attempts: int
    failed_at: str
