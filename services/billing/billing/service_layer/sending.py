"""Sending billing documents by e-mail: the request recorded, its mails queued by the worker, their outcomes recorded.

The API records the send on the document (InvoiceSendRequested: recipients, subject and message sealed under the
document's key) and nothing else. The worker reads that event from billing.events and queues one mail per recipient
in the mail outbox (crm_platform.mail), each under an id made of the send's (`invoice-send:<id>:<send>:<n>`): the
outbox refuses an id it holds, so a redelivered event, a second worker or a replay queues nothing twice, and a
send recorded is always queued (the event outlives a process that stops). The attachment is the document's PDF as
the `/pdf` endpoint serves it (service_layer/printing.py: kept once final). The dispatcher's outcomes come back
as RecordSendOutcome (InvoiceSent or InvoiceSendFailed, once per recipient).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Protocol

from crm_platform.errors import InvalidInput
from crm_platform.event_store import ConcurrencyConflict
from crm_platform.mail import MailAttachment, MailOutcome, OutgoingMail
from crm_platform.personal_data import SubjectErased
from crm_platform.processing_restrictions import NOTHING_RESTRICTED, RestrictionCheck

from billing.domain.account_defaults import utc_now
from billing.domain.document_mail import DocumentNotSendable, DocumentSend, mail_id, mail_texts, recipients
from billing.domain.invoice_events import InvoiceSendRequested
from billing.domain.quote_events import QuoteMailRequested
from billing.domain.printed_documents import INVOICE, QUOTE, PrintedDocument
from billing.domain.send_commands import MailQuote, RecordSendOutcome, SendInvoice
from billing.domain.settings import settings_id
from billing.service_layer import printing

log = logging.getLogger(__name__)
ATTEMPTS = 5  # concurrent writers on the document before an outcome is left for the dispatcher's next round
REPOSITORIES = {INVOICE: "invoices", QUOTE: "quotes"}  # the kinds of document mailed, and where each is read
PdfOf = Callable[[str, PrintedDocument, str], bytes]  # (account, document, lang) -> the PDF the API serves


class MailQueue(Protocol):
    def enqueue(self, mail: OutgoingMail) -> bool: ...


def send_invoice(cmd: SendInvoice, uow, clock: Callable[[], datetime] = utc_now) -> DocumentSend:
    """The send recorded (once per send id); refused when the invoice is not issued or an address cannot be mailed."""
    return _record_send(INVOICE, cmd.invoice_id, cmd, uow, clock)


def mail_quote(cmd: MailQuote, uow, clock: Callable[[], datetime] = utc_now,
               restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> DocumentSend:
    """The mailing recorded (once per send id); refused while the quote is a draft or an address cannot be mailed,
    and while its contact restricted processing (Art. 18: a quote is commercial, not a legal obligation as an
    issued invoice is)."""
    with uow:
        quote = uow.quotes.get(cmd.account_id, cmd.quote_id)
    if cmd.send_id not in quote.sends:
        restrictions.refuse_edits(cmd.account_id, [quote.contact_id])
    return _record_send(QUOTE, cmd.quote_id, cmd, uow, clock)


def _record_send(kind: str, document_id: str, cmd, uow, clock) -> DocumentSend:
    with uow:
        document = getattr(uow, REPOSITORIES[kind]).get(cmd.account_id, document_id)
        if cmd.send_id in document.sends:
            return document.sends[cmd.send_id]
        if kind == INVOICE and document.stage != "issued":
            raise DocumentNotSendable(INVOICE, document.id, f"it is {document.stage}; only an issued invoice is sent")
        customer = uow.customers.find(cmd.account_id, document.contact_id) if uow.customers else None
        live = customer is not None and not customer.deleted
        # the contact's addresses as billing knows them now; a deleted contact's, as the document froze them
        known = (customer.buyer if live else document.buyer).get("emails") or []
        to = recipients(cmd.to, list(known), set(customer.bounced) if customer is not None else set())
        settings = uow.settings.find_or_blank(cmd.account_id, settings_id(cmd.account_id)).settings
        values = {"number": document.number or "", "total": f"{document.totals.total:.2f} {document.currency}",
                  "due_date": (document.due_on if kind == INVOICE else document.valid_until) or "",
                  "seller": document.seller.get("name", "")}
        subject, message = mail_texts(kind, cmd.lang, values, settings["email_subject_template"],
                                      settings["email_message_template"], cmd.subject, cmd.message)
        for index, address in enumerate(to):  # what the outbox would refuse is refused now, naming the field
            _checked_mail(mail_id(kind, document.id, cmd.send_id, index), cmd.account_id, document.subject_key,
                          address, subject, message, index)
        send = document.request_send(cmd.send_id, cmd.lang, to, subject, message, clock().isoformat())
        uow.commit()
    return send


def queue_invoice_mails(event: InvoiceSendRequested, uow, mail_queue: MailQueue, document_pdf: PdfOf,
                        e_invoice: printing.EInvoice | None = None) -> int:
    """Queue the mails of a recorded send, the invoice's PDF attached (its Factur-X form, with `e_invoice`, as
    GET .../pdf serves it); how many were queued now (0 on a replay)."""
    return _queue_mails(INVOICE, event.invoice_id, event, uow, mail_queue, document_pdf, e_invoice)


def queue_quote_mails(event: QuoteMailRequested, uow, mail_queue: MailQueue, document_pdf: PdfOf) -> int:
    """Queue the mails of a recorded mailing of a quote, its PDF attached; how many were queued now."""
    return _queue_mails(QUOTE, event.quote_id, event, uow, mail_queue, document_pdf, None)


def _queue_mails(kind: str, document_id: str, event, uow, mail_queue: MailQueue, document_pdf: PdfOf,
                 e_invoice: printing.EInvoice | None) -> int:
    with uow:
        document = getattr(uow, REPOSITORIES[kind]).find(event.account_id, document_id)
    send = None if document is None or document.gone else document.sends.get(event.send_id)
    if send is None or len(send.outcomes) >= send.recipients:
        return 0  # erased, or every mail already went
    printed = printing.printed(kind, event.account_id, document_id, uow, e_invoice)
    attachment = MailAttachment(f"{document.number}.pdf", "application/pdf",
                                document_pdf(event.account_id, printed, event.lang))
    queued = 0
    for index, address in enumerate(event.to):
        queued += mail_queue.enqueue(OutgoingMail(
            mail_id=mail_id(kind, document_id, event.send_id, index), account_id=event.account_id,
            subject_key=document.subject_key, to=address, subject=event.mail_subject, text=event.mail_text,
            attachments=(attachment,), purpose="transactional",
            reference={"kind": kind, "document_id": document_id, "send_id": event.send_id, "recipient": index}))
    return queued


def record_send_outcome(cmd: RecordSendOutcome, uow) -> bool:
    """Record one recipient's outcome on the document; whether this call recorded it (False: known already, or the
    document is gone)."""
    for _ in range(ATTEMPTS):
        try:
            with uow:
                document = getattr(uow, REPOSITORIES[cmd.kind]).find(cmd.account_id, cmd.document_id)
                if document is None or not document.record_delivery(cmd.send_id, cmd.recipient, cmd.status,
                                                                     cmd.reason, cmd.attempts, cmd.at):
                    return False
                uow.commit()
                return True
        except SubjectErased:
            return False
        except ConcurrencyConflict:  # another write on the document meanwhile: read it again
            continue
    raise ConcurrencyConflict(f"{cmd.document_id} kept changing while its send outcome was recorded")


def outcome_command(outcome: MailOutcome) -> RecordSendOutcome | None:
    """The command of a dispatcher's outcome; None for a mail billing did not queue as a send."""
    ref = outcome.reference or {}
    if ref.get("kind") not in REPOSITORIES or not ref.get("document_id") or not ref.get("send_id"):
        return None
    return RecordSendOutcome(outcome.account_id, ref["kind"], ref["document_id"], ref["send_id"],
                             int(ref.get("recipient", 0)), outcome.status, outcome.reason, outcome.attempts,
                             outcome.at.isoformat())


def _checked_mail(mail: str, account_id: str, subject_key: str, to: str, subject: str, text: str,
                  index: int) -> None:
    try:
        OutgoingMail(mail_id=mail, account_id=account_id, subject_key=subject_key, to=to, subject=subject, text=text)
    except InvalidInput as exc:
        errors = exc.errors or {}
        named = {"to": {str(index): errors["to"]}} if "to" in errors else \
            {("message" if name == "text" else name): problems for name, problems in errors.items()}
        raise InvalidInput("the mail cannot be sent as asked", errors=named) from None
