"""Commands of sending billing documents by e-mail (domain/document_mail.py)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendInvoice:
    """Mail an issued invoice, its PDF attached; `send_id` names this send request (one mail per recipient)."""

    account_id: str
    invoice_id: str
    send_id: str
    lang: str
    to: tuple[str, ...] | None = None  # None: the buyer's primary address
    subject: str | None = None  # None: the account's template, else the language's default
    message: str | None = None


@dataclass(frozen=True)
class MailQuote:
    """Mail a sent (numbered) quote, its PDF attached, as SendInvoice."""

    account_id: str
    quote_id: str
    send_id: str
    lang: str
    to: tuple[str, ...] | None = None
    subject: str | None = None
    message: str | None = None


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
