"""Billing's entries of a contact's timeline (issue 14): which of its events say something about a contact, as what.

Pure: an event, its id and time in, `(contact id, entry)` pairs out (crm_platform.timeline_follower.EntriesOf).
Each entry's id is its event's id (one entry per event), its time the event's own. A summary holds numbers,
amounts, currencies, dates, states and ids only: never a buyer, a note, a reason or a payment reference (they are
personal, and sealed in the events), nor a mail's addresses or text. The kinds are listed in docs/api.md
("A contact's timeline: billing's entries").

Entries start at issue: a draft being edited, deleted or moved to another contact says nothing final, and an issue
started is not yet an invoice. The mail outcomes of a send (InvoiceSent, InvoiceSendFailed, ...) name no contact: the
send requested is the entry. Erasure and retention events (QuoteErased, ...ProcessingRestricted, InvoiceRetentionEnded)
make none: the contact's entries are forgotten with their erasure.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Callable

from crm_platform.aggregates import DomainEvent
from crm_platform.timeline import TimelineEntry

from billing.domain.credit_notes import CreditNoteIssued, CreditNoteSendRequested
from billing.domain.money import money_text, round_money
from billing.domain.invoice_events import (InvoiceIssued, InvoicePaid, InvoicePaymentRecorded, InvoicePaymentRemoved,
                                           InvoiceSendRequested, InvoiceVoided)
from billing.domain.quote_events import QuoteAccepted, QuoteConverted, QuoteDeclined, QuoteMailRequested, QuoteSent


def _total(amount: str, currency: str) -> str:
    """A document's total as the API shows it, to the currency's minor unit ("960.00"; the event may say "960")."""
    return money_text(round_money(Decimal(amount), currency))


def _invoice_issued(event: InvoiceIssued) -> tuple[str, dict]:
    return "invoice.issued", {"number": event.number, "total": _total(event.total, event.currency),
                              "currency": event.currency, "issued_on": event.issued_on, "due_on": event.due_on,
                              "status": "issued"}


def _payment_recorded(event: InvoicePaymentRecorded) -> tuple[str, dict]:
    return "invoice.payment_recorded", {"payment_id": event.payment_id, "amount": event.amount,
                                        "paid_on": event.paid_on, "method": event.method,
                                        "amount_due": event.amount_due}


def _payment_removed(event: InvoicePaymentRemoved) -> tuple[str, dict]:
    return "invoice.payment_removed", {"payment_id": event.payment_id, "amount_due": event.amount_due}


def _invoice_paid(event: InvoicePaid) -> tuple[str, dict]:
    return "invoice.paid", {"paid_on": event.paid_on, "status": "paid"}


def _invoice_voided(event: InvoiceVoided) -> tuple[str, dict]:
    return "invoice.voided", {"status": "void"}


def _invoice_mail(event: InvoiceSendRequested) -> tuple[str, dict]:
    return "invoice.mail_requested", {"send_id": event.send_id, "recipients": event.recipients, "lang": event.lang}


def _credit_note_mail(event: CreditNoteSendRequested) -> tuple[str, dict]:
    return "credit_note.mail_requested", {"send_id": event.send_id, "recipients": event.recipients,
                                          "lang": event.lang}


def _credit_note_issued(event: CreditNoteIssued) -> tuple[str, dict]:
    return "credit_note.issued", {"number": event.number, "invoice_id": event.invoice_id,
                                  "total": _total(event.total, event.currency), "currency": event.currency,
                                  "issued_on": event.issued_on}


def _quote_sent(event: QuoteSent) -> tuple[str, dict]:
    return "quote.sent", {"number": event.number, "total": _total(event.total, event.currency),
                          "currency": event.currency, "sent_on": event.sent_on, "valid_until": event.valid_until,
                          "status": "sent"}


def _quote_accepted(event: QuoteAccepted) -> tuple[str, dict]:
    return "quote.accepted", {"accepted_on": event.accepted_on, "status": "accepted"}


def _quote_declined(event: QuoteDeclined) -> tuple[str, dict]:
    return "quote.declined", {"declined_on": event.declined_on, "status": "declined"}


def _quote_converted(event: QuoteConverted) -> tuple[str, dict]:
    return "quote.converted", {"invoice_id": event.invoice_id, "converted_on": event.converted_on,
                               "status": "converted"}


def _quote_mail(event: QuoteMailRequested) -> tuple[str, dict]:
    return "quote.mail_requested", {"send_id": event.send_id, "recipients": event.recipients, "lang": event.lang}


# event class -> (subject type, the field naming the subject, its kind and summary)
_ENTRIES: dict[type, tuple[str, str, Callable[..., tuple[str, dict]]]] = {
    InvoiceIssued: ("invoice", "invoice_id", _invoice_issued),
    InvoicePaymentRecorded: ("invoice", "invoice_id", _payment_recorded),
    InvoicePaymentRemoved: ("invoice", "invoice_id", _payment_removed),
    InvoicePaid: ("invoice", "invoice_id", _invoice_paid),
    InvoiceVoided: ("invoice", "invoice_id", _invoice_voided),
    InvoiceSendRequested: ("invoice", "invoice_id", _invoice_mail),
    CreditNoteIssued: ("credit_note", "credit_note_id", _credit_note_issued),
    CreditNoteSendRequested: ("credit_note", "credit_note_id", _credit_note_mail),
    QuoteSent: ("quote", "quote_id", _quote_sent),
    QuoteAccepted: ("quote", "quote_id", _quote_accepted),
    QuoteDeclined: ("quote", "quote_id", _quote_declined),
    QuoteConverted: ("quote", "quote_id", _quote_converted),
    QuoteMailRequested: ("quote", "quote_id", _quote_mail),
}

ENTRY_EVENTS = tuple(_ENTRIES)  # the events that make an entry: the timeline consumer decodes these only
KINDS = ("invoice.issued", "invoice.payment_recorded", "invoice.payment_removed", "invoice.paid", "invoice.voided",
         "invoice.mail_requested", "credit_note.issued", "credit_note.mail_requested", "quote.sent", "quote.accepted",
         "quote.declined", "quote.converted", "quote.mail_requested")


def timeline_entries(event: DomainEvent, event_id: str, at: datetime) -> list[tuple[str, TimelineEntry]]:
    """The entry one of billing's events makes on its contact's timeline, if any."""
    known = _ENTRIES.get(type(event))
    if known is None:
        return []
    subject_type, subject_field, describe = known
    kind, summary = describe(event)
    return [(event.contact_id, TimelineEntry(event_id, at, kind, subject_type, getattr(event, subject_field),
                                             summary))]
