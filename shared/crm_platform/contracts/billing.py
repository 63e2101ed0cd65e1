"""`billing.events`, produced by the billing service: the account's billing settings, invoices, credit notes,
quotes and recurring invoices.

Money travels as text ("120.50"), dates as ISO dates.

The seller's legal identity (a business, not a data subject) travels in clear. A buyer's snapshot,
a document's notes and the texts staff type (line descriptions, references, reasons) travel in `personal`, sealed with
one key per invoice, `billing-document:<invoice id>`, on every event of the invoice and of its credit
notes, whichever contact an event names: not the contact's own key, so that erasing the person can
keep issued invoices for their legal retention, and one key for the document, so that erasing a
contact a draft was moved away from cannot break the invoice. Each event carrying `personal` names
its `contact_id` in clear: the keys holding a person's data are those of the documents naming them
(the privacy service decides when a key is shredded). A quote is a document of its own, sealed under
`billing-document:<quote id>`, and a recurring invoice's template under `billing-document:<recurring invoice id>`
(each invoice it generates has its own key).

Privacy (issue 13): billing answers privacy's requests on this topic (`SubjectErased`, `SubjectDataExported`,
crm_platform.contracts.privacy). Erasing a person deletes their drafts, quotes and recurring invoices
(`QuoteErased`, `RecurringInvoiceErased`, the key shredded) and keeps their issued invoices and credit notes,
read only (`InvoiceProcessingRestricted`, `CreditNoteProcessingRestricted`), until their retention ends
(`InvoiceRetentionEnded`, the key shredded).
"""
from __future__ import annotations

from marshmallow import fields

from crm_platform.contracts import EventContract, PayloadSchema, SealedField, Topic, required_id
from crm_platform.contracts.privacy import PRIVACY_REPLY_CONTRACTS


class BillingSettingsChangedPayload(PayloadSchema):
    """The account's whole billing settings after the change (the latest event is the state)."""

    settings = fields.Dict(required=True, metadata={
        "description": "seller (legal identity), default_currency, time_zone, numbering, payment_term, notes, "
                       "legal_terms, vat_exempt, vat_exemption_text, email_subject_template, "
                       "email_message_template"})
    changed = fields.List(fields.String(), required=True, metadata={"description": "top-level keys that changed"})


def _money() -> fields.String:
    return fields.String(required=True, metadata={"description": "a decimal amount as text, e.g. \"120.50\""})


def _date() -> fields.String:
    return fields.String(required=True, metadata={"description": "ISO date, YYYY-MM-DD"})


class _ContactPayload(PayloadSchema):
    contact_id = required_id()


class InvoiceDraftPayload(_ContactPayload):
    """The whole draft (each event of a draft carries all of it)."""

    currency = fields.String(required=True)
    lines = fields.List(fields.Dict(), required=True, metadata={
        "description": "quantity, unit, unit_price, taxes [{category, rate}], discount? (descriptions are sealed)"})
    prices_include_tax = fields.Boolean(required=True)
    payment_term = fields.Dict(required=True)
    legal_terms = fields.String(required=True)
    discount = fields.Dict(load_default=None, allow_none=True)
    period = fields.Dict(load_default=None, allow_none=True, metadata={
        "description": "the invoicing period (EN 16931 BG-14): {start, end} ISO dates; absent when none"})
    personal = SealedField(required=True, metadata={"description": "notes, descriptions (each line's, in order)"})


class InvoiceIssueStartedPayload(_ContactPayload):
    """The draft frozen for issuing, its number being reserved. Sent again, with later dates, when its number
    is first asked for on a later day (numbers follow dates): the latest one holds."""

    issued_on = _date()
    due_on = _date()
    fiscal_year = fields.Integer(required=True)
    number_pattern = fields.String(required=True)
    seller = fields.Dict(required=True, metadata={"description": "the seller's legal identity (a business)"})
    totals = fields.Dict(required=True)
    personal = SealedField(required=True, metadata={"description": "buyer: the customer's snapshot"})


class InvoiceIssuedPayload(_ContactPayload):
    number = fields.String(required=True)
    issued_on = _date()
    due_on = _date()
    currency = fields.String(required=True)
    total = _money()


class InvoicePaymentRecordedPayload(_ContactPayload):
    payment_id = required_id()
    amount = _money()
    paid_on = _date()
    method = fields.String(required=True)
    amount_due = _money()
    personal = SealedField(required=True, metadata={"description": "reference"})


class InvoicePaymentRemovedPayload(_ContactPayload):
    payment_id = required_id()
    amount_due = _money()
    personal = SealedField(required=True, metadata={"description": "reason"})


class InvoicePaidPayload(_ContactPayload):
    """Payments cover what is due (an invoice credit notes cover in full, nothing paid, is credited, not paid)."""

    paid_on = _date()


class InvoiceCreditedPayload(_ContactPayload):
    credit_note_id = required_id()
    currency = fields.String(required=True)
    amount = _money()
    amount_due = _money()
    bases = fields.List(fields.Dict(), required=True, metadata={
        "description": "per VAT category and rate, the line amounts (before the document discount) and the "
                       "taxable base credited: [{category, rate, amount, base}]"})


class InvoiceVoidedPayload(_ContactPayload):
    personal = SealedField(required=True, metadata={"description": "reason"})


class InvoiceSendRequestedPayload(_ContactPayload):
    """An issued invoice is to be mailed, its PDF attached, a mail per recipient (issue 11)."""

    send_id = required_id()
    lang = fields.String(required=True, metadata={"description": "fr or en"})
    recipients = fields.Integer(required=True, metadata={"description": "how many addresses it goes to"})
    requested_at = fields.String(required=True, metadata={"description": "ISO date and time"})
    personal = SealedField(required=True, metadata={"description": "to (the addresses), mail_subject, mail_text"})


class InvoiceSentPayload(PayloadSchema):
    """The mail of one recipient of a send was accepted by the SMTP server."""

    send_id = required_id()
    recipient = fields.Integer(required=True, metadata={"description": "its place in the send's addresses"})
    attempts = fields.Integer(required=True)
    sent_at = fields.String(required=True, metadata={"description": "ISO date and time"})


class InvoiceSendFailedPayload(PayloadSchema):
    """The mail of one recipient of a send failed for good."""

    send_id = required_id()
    recipient = fields.Integer(required=True)
    reason = fields.String(required=True, metadata={
        "description": "rejected (the server refused the address: treat it as bounced), undeliverable, "
                       "subject_erased, invalid"})
    attempts = fields.Integer(required=True)
    failed_at = fields.String(required=True, metadata={"description": "ISO date and time"})


class QuoteMailRequestedPayload(InvoiceSendRequestedPayload):
    """A sent (numbered) quote is to be mailed, its PDF attached, a mail per recipient (issue 11); `QuoteSent` is
    the quote numbered and frozen, not a mail."""


class QuoteMailedPayload(InvoiceSentPayload):
    """The mail of one recipient of a quote's mailing was accepted by the SMTP server."""


class QuoteMailFailedPayload(InvoiceSendFailedPayload):
    """The mail of one recipient of a quote's mailing failed for good."""


class CreditNoteSendRequestedPayload(InvoiceSendRequestedPayload):
    """An issued credit note is to be mailed, its PDF attached, a mail per recipient (issue 11); sealed under its
    invoice's key, as every event of a credit note."""

    invoice_id = required_id()


class CreditNoteSentPayload(InvoiceSentPayload):
    """The mail of one recipient of a credit note's send was accepted by the SMTP server."""

    invoice_id = required_id()


class CreditNoteSendFailedPayload(InvoiceSendFailedPayload):
    """The mail of one recipient of a credit note's send failed for good."""

    invoice_id = required_id()


class NoPayload(PayloadSchema):
    pass


class ProcessingRestrictedPayload(PayloadSchema):
    """Its person asked for erasure; the law keeps it (issued invoices and credit notes: 10 years), read only,
    until `retain_until` (inclusive), when its document key is shredded (issue 13)."""

    retain_until = _date()
    legal_basis = fields.String(required=True)
    restricted_on = _date()


class CreditNoteProcessingRestrictedPayload(ProcessingRestrictedPayload):
    invoice_id = required_id()


class InvoiceRetentionEndedPayload(PayloadSchema):
    """The retention ended and the document key was shredded: the invoice's personal data and its credit notes'
    are unreadable everywhere."""

    ended_on = _date()


class CreditNoteIssueStartedPayload(_ContactPayload):
    """The credit note frozen, before the invoice takes its credit and its number is reserved; sent again with
    a later date as InvoiceIssueStarted is. It ends issued (CreditNoteIssued) or abandoned (CreditNoteAbandoned)."""

    invoice_id = required_id()
    invoice_number = fields.String(required=True)
    currency = fields.String(required=True)
    lines = fields.List(fields.Dict(), required=True)
    prices_include_tax = fields.Boolean(required=True)
    issued_on = _date()
    fiscal_year = fields.Integer(required=True)
    number_pattern = fields.String(required=True)
    seller = fields.Dict(required=True)
    totals = fields.Dict(required=True)
    discount = fields.Dict(load_default=None, allow_none=True)
    personal = SealedField(required=True, metadata={"description": "buyer, reason, descriptions (each line's)"})


class CreditNoteAbandonedPayload(_ContactPayload):
    """The invoice refused the credit (paid, voided or credited since the note started): no credit, no number."""

    invoice_id = required_id()
    why = fields.String(required=True)


class CreditNoteIssuedPayload(_ContactPayload):
    invoice_id = required_id()
    number = fields.String(required=True)
    issued_on = _date()
    currency = fields.String(required=True)
    total = _money()


class QuoteDraftPayload(_ContactPayload):
    """The whole draft (each event of a draft carries all of it)."""

    currency = fields.String(required=True)
    lines = fields.List(fields.Dict(), required=True, metadata={
        "description": "quantity, unit, unit_price, taxes [{category, rate}], discount? (descriptions are sealed)"})
    prices_include_tax = fields.Boolean(required=True)
    legal_terms = fields.String(required=True)
    valid_until = fields.String(load_default=None, allow_none=True, metadata={
        "description": "ISO date, the last day it may be accepted; absent: 30 days after it is sent"})
    discount = fields.Dict(load_default=None, allow_none=True)
    personal = SealedField(required=True, metadata={"description": "notes, descriptions (each line's, in order)"})


class QuoteSendStartedPayload(_ContactPayload):
    """The draft frozen for sending, its number (own gapless series) being reserved."""

    sent_on = _date()
    valid_until = _date()
    fiscal_year = fields.Integer(required=True)
    number_pattern = fields.String(required=True)
    seller = fields.Dict(required=True, metadata={"description": "the seller's legal identity (a business)"})
    totals = fields.Dict(required=True)
    personal = SealedField(required=True, metadata={"description": "buyer: the customer's snapshot"})


class QuoteSentPayload(_ContactPayload):
    number = fields.String(required=True)
    sent_on = _date()
    valid_until = _date()
    currency = fields.String(required=True)
    total = _money()


class QuoteAcceptedPayload(_ContactPayload):
    accepted_on = _date()


class QuoteDeclinedPayload(_ContactPayload):
    declined_on = _date()
    personal = SealedField(required=True, metadata={"description": "reason"})


class QuoteConvertedPayload(_ContactPayload):
    invoice_id = required_id()
    converted_on = _date()


class RecurringInvoicePayload(_ContactPayload):
    schedule = fields.Dict(required=True, metadata={"description": "anchor, every, unit, ends, count?, until?"})
    mode = fields.String(required=True, metadata={"description": "issue or draft"})
    template = fields.Dict(required=True, metadata={
        "description": "currency, lines (without descriptions), prices_include_tax, payment_term, legal_terms, "
                       "discount; notes and descriptions sealed"})
    personal = SealedField(required=True, metadata={"description": "template.notes, template.descriptions"})


class RecurringInvoiceEditedPayload(RecurringInvoicePayload):
    """The whole recurring invoice as it now is; it applies to occurrences generated from then on."""

    first_k = fields.Integer(required=True, metadata={"description": "the occurrence number of the schedule's anchor"})


class RecurringInvoicePausedPayload(PayloadSchema):
    paused_on = _date()


class RecurringInvoiceResumedPayload(PayloadSchema):
    resumed_on = _date()
    next_k = fields.Integer(required=True, metadata={"description": "the next occurrence to generate"})


class RecurringInvoiceCancelledPayload(PayloadSchema):
    cancelled_on = _date()


class RecurringInvoiceGeneratedPayload(_ContactPayload):
    """Occurrence k made invoice_id (once: its id is made from the recurring invoice's and k)."""

    k = fields.Integer(required=True)
    invoice_id = required_id()
    occurrence_on = _date()
    period_end = fields.String(load_default=None, allow_none=True, metadata={
        "description": "ISO date, the day before the next occurrence"})


BILLING_EVENTS = Topic("billing.events", producer="billing", events=(
    EventContract("BillingSettingsChanged", BillingSettingsChangedPayload),
    EventContract("InvoiceDrafted", InvoiceDraftPayload),
    EventContract("InvoiceDraftUpdated", InvoiceDraftPayload),
    EventContract("InvoiceDraftDeleted", NoPayload),
    EventContract("InvoiceIssueStarted", InvoiceIssueStartedPayload),
    EventContract("InvoiceIssued", InvoiceIssuedPayload),
    EventContract("InvoicePaymentRecorded", InvoicePaymentRecordedPayload),
    EventContract("InvoicePaymentRemoved", InvoicePaymentRemovedPayload),
    EventContract("InvoicePaid", InvoicePaidPayload),
    EventContract("InvoiceCredited", InvoiceCreditedPayload),
    EventContract("InvoiceVoided", InvoiceVoidedPayload),
    EventContract("InvoiceProcessingRestricted", ProcessingRestrictedPayload),
    EventContract("InvoiceRetentionEnded", InvoiceRetentionEndedPayload),
    EventContract("InvoiceSendRequested", InvoiceSendRequestedPayload),
    EventContract("InvoiceSent", InvoiceSentPayload),
    EventContract("InvoiceSendFailed", InvoiceSendFailedPayload),
    EventContract("CreditNoteIssueStarted", CreditNoteIssueStartedPayload),
    EventContract("CreditNoteIssued", CreditNoteIssuedPayload),
    EventContract("CreditNoteAbandoned", CreditNoteAbandonedPayload),
    EventContract("CreditNoteProcessingRestricted", CreditNoteProcessingRestrictedPayload),
    EventContract("CreditNoteSendRequested", CreditNoteSendRequestedPayload),
    EventContract("CreditNoteSent", CreditNoteSentPayload),
    EventContract("CreditNoteSendFailed", CreditNoteSendFailedPayload),
    EventContract("QuoteDrafted", QuoteDraftPayload),
    EventContract("QuoteDraftUpdated", QuoteDraftPayload),
    EventContract("QuoteDraftDeleted", NoPayload),
    EventContract("QuoteSendStarted", QuoteSendStartedPayload),
    EventContract("QuoteSent", QuoteSentPayload),
    EventContract("QuoteAccepted", QuoteAcceptedPayload),
    EventContract("QuoteDeclined", QuoteDeclinedPayload),
    EventContract("QuoteConverted", QuoteConvertedPayload),
    EventContract("QuoteErased", NoPayload),
    EventContract("QuoteMailRequested", QuoteMailRequestedPayload),
    EventContract("QuoteMailed", QuoteMailedPayload),
    EventContract("QuoteMailFailed", QuoteMailFailedPayload),
    EventContract("RecurringInvoiceScheduled", RecurringInvoicePayload),
    EventContract("RecurringInvoiceEdited", RecurringInvoiceEditedPayload),
    EventContract("RecurringInvoicePaused", RecurringInvoicePausedPayload),
    EventContract("RecurringInvoiceResumed", RecurringInvoiceResumedPayload),
    EventContract("RecurringInvoiceCancelled", RecurringInvoiceCancelledPayload),
    EventContract("RecurringInvoiceGenerated", RecurringInvoiceGeneratedPayload),
    EventContract("RecurringInvoiceErased", NoPayload),
    *PRIVACY_REPLY_CONTRACTS,
))
