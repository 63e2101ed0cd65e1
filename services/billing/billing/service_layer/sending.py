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

from billing.domain.account_defaults import utc_now
from billing.domain.document_mail import DocumentNotSendable, DocumentSend, mail_id, mail_texts, recipients
from billing.domain.invoice_events import InvoiceSendRequested
from billing.domain.printed_documents import INVOICE, PrintedDocument
from billing.domain.send_commands import RecordSendOutcome, SendInvoice
from billing.domain.settings import settings_id
from billing.service_layer import printing

log = logging.getLogger(__name__)
ATTEMPTS = 5  # concurrent writers on the document before an outcome is left for the dispatcher's next round
PdfOf = Callable[[str, PrintedDocument, str], bytes]  # (account, document, lang) -> the PDF the API serves


class MailQueue(Protocol):
    def enqueue(self, mail: OutgoingMail) -> bool: ...


def send_invoice(cmd: SendInvoice, uow, clock: Callable[[], datetime] = utc_now) -> DocumentSend:
    """The send recorded (once per send id); refused when the invoice is not issued or an address cannot be mailed."""
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        if cmd.send_id in invoice.sends:
            return invoice.sends[cmd.send_id]
        if invoice.stage != "issued":
            raise DocumentNotSendable(INVOICE, invoice.id, f"it is {invoice.stage}; only an issued invoice is sent")
        customer = uow.customers.find(cmd.account_id, invoice.contact_id) if uow.customers else None
        live = customer is not None and not customer.deleted
        # the contact's addresses as billing knows them now; a deleted contact's, as the invoice froze them
        known = (customer.buyer if live else invoice.buyer).get("emails") or []
        to = recipients(cmd.to, list(known),
                        set(customer.bounced) if customer is not None else set())
        settings = uow.settings.find_or_blank(cmd.account_id, settings_id(cmd.account_id)).settings
        values = {"number": invoice.number, "total": f"{invoice.totals.total:.2f} {invoice.currency}",
                  "due_date": invoice.due_on, "seller": invoice.seller.get("name", "")}
        subject, message = mail_texts(INVOICE, cmd.lang, values, settings["email_subject_template"],
                                      settings["email_message_template"], cmd.subject, cmd.message)
        for index, address in enumerate(to):  # what the outbox would refuse is refused now, naming the field
            _checked_mail(mail_id(INVOICE, invoice.id, cmd.send_id, index), cmd.account_id, invoice.subject_key,
                          address, subject, message, index)
        send = invoice.request_send(cmd.send_id, cmd.lang, to, subject, message, clock().isoformat())
        uow.commit()
    return send


def queue_invoice_mails(event: InvoiceSendRequested, uow, mail_queue: MailQueue, document_pdf: PdfOf) -> int:
    """Queue the mails of a recorded send, the invoice's PDF attached; how many were queued now (0 on a replay)."""
    with uow:
        invoice = uow.invoices.find(event.account_id, event.invoice_id)
    send = None if invoice is None or invoice.gone else invoice.sends.get(event.send_id)
    if send is None or len(send.outcomes) >= send.recipients:
        return 0  # erased, or every mail already went
    document = printing.printed(INVOICE, event.account_id, event.invoice_id, uow)
    attachment = MailAttachment(f"{invoice.number}.pdf", "application/pdf",
                                document_pdf(event.account_id, document, event.lang))
    queued = 0
    for index, address in enumerate(event.to):
        queued += mail_queue.enqueue(OutgoingMail(
            mail_id=mail_id(INVOICE, invoice.id, event.send_id, index), account_id=event.account_id,
            subject_key=invoice.subject_key, to=address, subject=event.mail_subject, text=event.mail_text,
            attachments=(attachment,), purpose="transactional",
            reference={"kind": INVOICE, "document_id": invoice.id, "send_id": event.send_id, "recipient": index}))
    return queued


def record_send_outcome(cmd: RecordSendOutcome, uow) -> bool:
    """Record one recipient's outcome on the document; whether this call recorded it (False: known already, or the
    document is gone)."""
    for _ in range(ATTEMPTS):
        try:
            with uow:
                invoice = uow.invoices.find(cmd.account_id, cmd.document_id)
                if invoice is None or not invoice.record_delivery(cmd.send_id, cmd.recipient, cmd.status,
                                                                  cmd.reason, cmd.attempts, cmd.at):
                    return False
                uow.commit()
                return True
        except SubjectErased:
            return False
        except ConcurrencyConflict:  # another write on the invoice meanwhile: read it again
            continue
    raise ConcurrencyConflict(f"{cmd.document_id} kept changing while its send outcome was recorded")


def outcome_command(outcome: MailOutcome) -> RecordSendOutcome | None:
    """The command of a dispatcher's outcome; None for a mail billing did not queue as a send."""
    ref = outcome.reference or {}
    if ref.get("kind") != INVOICE or not ref.get("document_id") or not ref.get("send_id"):
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
