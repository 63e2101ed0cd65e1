"""Sending a billing document by e-mail: who it goes to, what the mail says, and what became of each send.

A send names its recipients (a client's `to`, else the buyer's primary address as billing's customers read model
knows it). An address whose deliverability is `bounced` is refused; an `unsubscribed` marketing status is not
(an invoice is a transactional mail). The subject and message come from the request, else from the account's
templates (billing settings `email_subject_template`, `email_message_template`), else from the language's
defaults. A template is filled with `str.format_map` on a fixed dict of texts: only the PLACEHOLDERS, checked
when the template is saved, with no conversion, format spec, attribute or index (nothing reaches an object).
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field

from crm_platform.errors import Conflict, InvalidInput
from crm_platform.input_guard import text_problem

QUEUED, SENT, FAILED = "queued", "sent", "failed"
MAX_RECIPIENTS = 10
MAX_SUBJECT, MAX_MESSAGE = 500, 10_000
PLACEHOLDERS = ("document", "number", "total", "due_date", "seller")
DEFAULT_SUBJECTS = {"fr": "{document} {number} - {seller}", "en": "{document} {number} - {seller}"}
DEFAULT_MESSAGES = {
    "fr": "Bonjour,\n\nVeuillez trouver ci-joint {document} {number} d'un montant de {total}.\n\n"
          "Cordialement,\n{seller}",
    "en": "Hello,\n\nPlease find attached {document} {number} for {total}.\n\nKind regards,\n{seller}",
}
DOCUMENT_NAMES = {"fr": {"invoice": "la facture", "quote": "le devis", "credit_note": "l'avoir"},
                  "en": {"invoice": "invoice", "quote": "quote", "credit_note": "credit note"}}
SUBJECT_NAMES = {"fr": {"invoice": "Facture", "quote": "Devis", "credit_note": "Avoir"},
                 "en": {"invoice": "Invoice", "quote": "Quote", "credit_note": "Credit note"}}


class DocumentNotSendable(Conflict):
    """Only final documents are mailed: an issued invoice (not a draft, not one being issued, not void)."""

    title = "Document not sendable"
    slug = "document-not-sendable"

    def __init__(self, kind: str, document_id: str, why: str) -> None:
        super().__init__(f"{kind} {document_id} cannot be sent: {why}", document_id=document_id)


def check_template(value, name: str, max_length: int) -> str:
    """A template as kept in the settings ("" for the language's default); InvalidInput naming `name`."""
    if not isinstance(value, str) or len(value) > max_length or text_problem(value):
        raise InvalidInput(f"{name} is not a valid template",
                           errors={name: [f"a text of at most {max_length} characters"]})
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError:
        parts = None
    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    if parts is None or any(field_name is not None and (field_name not in PLACEHOLDERS or spec or conversion)
                            for _, field_name, spec, conversion in parts):
        raise InvalidInput(f"{name} has an unknown placeholder",
                           errors={name: [f"placeholders are {allowed} (write {{{{ and }}}} for braces)"]})
    return value.strip()


def filled(template: str, values: dict[str, str]) -> str:
    """A checked template with its placeholders replaced by `values` (texts, never objects)."""
    return template.format_map({name: str(values.get(name, "")) for name in PLACEHOLDERS})


def mail_texts(kind: str, lang: str, values: dict[str, str], subject_template: str, message_template: str,
               subject: str | None, message: str | None) -> tuple[str, str]:
    """The subject and message of a send: the request's as given, else the account's templates, else the
    language's defaults, filled."""
    values = {**values, "document": DOCUMENT_NAMES[lang][kind]}
    if subject is None:
        subject = filled(subject_template or DEFAULT_SUBJECTS[lang],
                         {**values, "document": SUBJECT_NAMES[lang][kind]})
    if message is None:
        message = filled(message_template or DEFAULT_MESSAGES[lang], values)
    return subject, message


def recipients(to: tuple[str, ...] | None, known_emails: list[str],
               bounced: set[str]) -> tuple[tuple[int, str], ...]:
    """The addresses a send goes to, each once (the first of those alike but for case), each with its place in the
    list as the client gave it (what a 422 names: `to.<place>`); InvalidInput naming `to` when there is none or one
    has bounced."""
    chosen = tuple(to) if to else tuple(known_emails[:1])
    if not chosen:
        raise InvalidInput("no address to send to", errors={"to": [
            "the buyer has no e-mail address billing knows of: give one or more addresses"]})
    folded = {address.casefold() for address in bounced}
    refused = [index for index, address in enumerate(chosen) if address.casefold() in folded]
    if refused:
        raise InvalidInput("an address has bounced", errors={"to": {
            str(index): ["this address has bounced: mail to it does not arrive"] for index in refused}})
    unique: dict[str, tuple[int, str]] = {}
    for index, address in enumerate(chosen):
        unique.setdefault(address.casefold(), (index, address))
    return tuple(unique.values())


@dataclass
class DocumentSend:
    """One send request of a document: queued until every recipient's mail is sent or failed."""

    send_id: str
    lang: str
    recipients: int
    requested_at: str
    outcomes: dict[int, tuple[str, str | None, str]] = field(default_factory=dict)  # index -> (status, reason, at)
    to: tuple[str, ...] = ()  # personal data: shown in the person's export only, never by the API
    subject: str = ""

    def awaits(self, recipient: int) -> bool:
        """Whether this recipient's outcome is still to record (one of the send's, not recorded yet)."""
        return 0 <= recipient < self.recipients and recipient not in self.outcomes

    @property
    def status(self) -> str:
        if any(status == FAILED for status, _, _ in self.outcomes.values()):
            return FAILED
        return SENT if len(self.outcomes) >= self.recipients else QUEUED

    @property
    def reason(self) -> str | None:
        return next((reason for status, reason, _ in self.outcomes.values() if status == FAILED), None)

    def to_dict(self) -> dict:
        return {"send_id": self.send_id, "status": self.status, "reason": self.reason, "lang": self.lang,
                "recipients": self.recipients, "requested_at": self.requested_at,
                "deliveries": [{"recipient": index, "status": status, "reason": reason, "at": at}
                               for index, (status, reason, at) in sorted(self.outcomes.items())]}


def mail_id(kind: str, document_id: str, send_id: str, recipient: int) -> str:
    """The outbox id of one recipient's mail of a send: the same every time it is enqueued."""
    return f"{kind}-send:{document_id}:{send_id}:{recipient}"
