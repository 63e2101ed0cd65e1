"""Sending billing documents by e-mail: the request recorded, its mails queued by the worker, their outcomes recorded.

One path for every kind of document mailed (invoice, quote, credit note: domain/mailed_documents.py). The API
records the send on the document (InvoiceSendRequested, QuoteMailRequested, CreditNoteSendRequested: recipients,
subject and message sealed under the document's key) and nothing else. The worker reads that event from billing.events and queues one mail per recipient
in the mail outbox (crm_platform.mail), each under an id made of the send's (`invoice-send:<id>:<send>:<n>`): the
outbox refuses an id it holds, so a redelivered event, a second worker or a replay queues nothing twice, and a
send recorded is always queued (the event outlives a process that stops). The attachment is the document's PDF as
the `/pdf` endpoint serves it (service_layer/printing.py: kept once final). The dispatcher's outcomes come back
as RecordSendOutcome (InvoiceSent or InvoiceSendFailed, and each kind's own, once per recipient).
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
from billing.domain.document_mail import DocumentSend, mail_id, mail_texts, recipients
from billing.domain.credit_notes import CreditNote
from billing.domain.invoices import Invoice
from billing.domain.printed_documents import CREDIT_NOTE, INVOICE, QUOTE, PrintedDocument
from billing.domain.quotes import Quote
from billing.domain.send_commands import RecordSendOutcome, SendDocument
from billing.domain.settings import settings_id
from billing.service_layer import printing

log = logging.getLogger(__name__)
MAILED = (Invoice, Quote, CreditNote)  # the aggregates mailed (domain/mailed_documents.py)
SEND_REQUESTS = {document.send_events[0]: document.mail_kind for document in MAILED}  # event class -> kind
ATTEMPTS = 5  # concurrent writers on the document before an outcome is left for the dispatcher's next round
# the kinds of document mailed, where each is read, and the date a mail's {due_date} names (a credit note: none)
REPOSITORIES = {INVOICE: "invoices", QUOTE: "quotes", CREDIT_NOTE: "credit_notes"}
DUE_DATES = {INVOICE: "due_on", QUOTE: "valid_until"}
PdfOf = Callable[[str, PrintedDocument, str], bytes]  # (account, document, lang) -> the PDF the API serves


class MailQueue(Protocol):
    def enqueue(self, mail: OutgoingMail) -> bool: ...


def send_document(cmd: SendDocument, uow, clock: Callable[[], datetime] = utc_now,
                  restrictions: RestrictionCheck = NOTHING_RESTRICTED) -> DocumentSend:
    """The send recorded (once per send id); refused while the document may not be mailed (a draft, void, kept for
    the law only: its `check_sendable`), when an address cannot be mailed, and, for a document no law obliges to
    send (a quote is commercial), while its contact restricted processing (Art. 18)."""
    with uow:
        document = getattr(uow, REPOSITORIES[cmd.kind]).get(cmd.account_id, cmd.document_id)
        if cmd.send_id in document.sends:
            return document.sends[cmd.send_id]
        document.check_sendable()
        if not document.legal_obligation:
            restrictions.refuse_edits(cmd.account_id, [document.contact_id])
        to = _recipients(cmd, document, uow)
        settings = uow.settings.find_or_blank(cmd.account_id, settings_id(cmd.account_id)).settings
        due = getattr(document, DUE_DATES[cmd.kind]) if cmd.kind in DUE_DATES else None
        values = {"number": document.number or "", "total": f"{document.totals.total:.2f} {document.currency}",
                  "due_date": due or "", "seller": document.seller.get("name", "")}
        subject, message = mail_texts(cmd.kind, cmd.lang, values, settings["email_subject_template"],
                                      settings["email_message_template"], cmd.subject, cmd.message)
        # what the outbox would refuse is refused now, naming the field (`to.<n>`: n as the client's list has it)
        for index, (given_at, address) in enumerate(to):
            _checked_mail(mail_id(cmd.kind, document.id, cmd.send_id, index), cmd.account_id, document.subject_key,
                          address, subject, message, given_at)
        send = document.request_send(cmd.send_id, cmd.lang, tuple(address for _, address in to), subject, message,
                                     clock().isoformat())
        uow.commit()
    return send


def _recipients(cmd: SendDocument, document, uow) -> tuple[tuple[int, str], ...]:
    customer = uow.customers.find(cmd.account_id, document.contact_id) if uow.customers else None
    live = customer is not None and not customer.deleted
    # the contact's addresses as billing knows them now; a deleted contact's, as the document froze them
    known = (customer.buyer if live else document.buyer).get("emails") or []
    return recipients(cmd.to, list(known), set(customer.bounced) if customer is not None else set())


def queue_document_mails(event, uow, mail_queue: MailQueue, document_pdf: PdfOf,
                         e_invoice: printing.EInvoice | None = None) -> int:
    """Queue the mails of a recorded send (InvoiceSendRequested, QuoteMailRequested, CreditNoteSendRequested), the
    document's PDF attached as GET .../pdf serves it (an invoice's or credit note's Factur-X form, with
    `e_invoice`); how many were queued now (0 on a replay)."""
    kind, document_id = SEND_REQUESTS[type(event)], getattr(event, type(event).aggregate_id_field)
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
