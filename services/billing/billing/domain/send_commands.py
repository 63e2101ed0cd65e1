"""Commands of sending billing documents by e-mail (domain/document_mail.py, domain/mailed_documents.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from billing.domain.printed_documents import CREDIT_NOTE, INVOICE, QUOTE


@dataclass(frozen=True)
class SendDocument:
    """Mail a final document, its PDF attached; `send_id` names this send request (one mail per recipient). One
    command class per kind of document (the bus dispatches on it), the same fields."""

    kind: ClassVar[str]
    account_id: str
    document_id: str
    send_id: str
    lang: str
    to: tuple[str, ...] | None = None  # None: the buyer's primary address
    subject: str | None = None  # None: the account's template, else the language's default
    message: str | None = None


class SendInvoice(SendDocument):
    """Mail an issued invoice."""

    kind = INVOICE


class MailQuote(SendDocument):
    """Mail a sent (numbered) quote."""

    kind = QUOTE


class SendCreditNote(SendDocument):
    """Mail an issued credit note."""

    kind = CREDIT_NOTE


@dataclass(frozen=True)
class RecordSendOutcome:
    """What became of one recipient's mail of a send, as the mail dispatcher reported it."""

    account_id: str
    kind: str
    document_id: str
    send_id: str
    recipient: int
    status: str  # sent | failed
    reason: str | None
    attempts: int
    at: str
