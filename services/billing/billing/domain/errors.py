"""Errors of the billing domain (typed, so the app shell maps them to problem+json naming the field)."""
from __future__ import annotations

from crm_platform.errors import Conflict, InvalidInput, NotFound, StaleRevision


class InvoiceNotFound(NotFound):
    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"invoice {invoice_id} does not exist in this account", invoice_id=invoice_id)


class CreditNoteNotFound(NotFound):
    def __init__(self, credit_note_id: str) -> None:
        super().__init__(f"credit note {credit_note_id} does not exist in this account", credit_note_id=credit_note_id)


class PaymentNotFound(NotFound):
    def __init__(self, invoice_id: str, payment_id: str) -> None:
        super().__init__(f"invoice {invoice_id} has no payment {payment_id}", invoice_id=invoice_id,
                         payment_id=payment_id)


class StaleInvoiceRevision(StaleRevision):
    def __init__(self, invoice_id: str, given: int, current: int) -> None:
        super().__init__(f"invoice {invoice_id} is at revision {current}, the change was based on revision {given}; "
                         "re-read the invoice and apply your change again", invoice_id=invoice_id,
                         current_revision=current)


class InvalidInvoice(InvalidInput):
    """A document field breaks a rule; `errors` maps the field path ("lines.0.unit_price") to messages."""

    def __init__(self, field: str, message: str, detail: str | None = None) -> None:
        super().__init__(detail or f"invalid {field}: {message}", errors={field: [message]})


class UnknownCustomer(InvalidInput):
    """The contact_id names no contact of the account (as far as billing's projection of contacts knows)."""

    def __init__(self, contact_id: str) -> None:
        super().__init__(f"contact {contact_id} does not exist in this account",
                         errors={"contact_id": ["no contact of this account has this id"]})


class CustomerDeleted(InvalidInput):
    """The draft's contact was deleted: the draft cannot be issued until it names another contact."""

    def __init__(self, contact_id: str) -> None:
        super().__init__(f"contact {contact_id} was deleted: choose another contact for this draft before issuing it",
                         errors={"contact_id": ["this contact was deleted"]})


class InvoiceNotEditable(Conflict):
    """Only drafts are edited or deleted: an issued invoice is corrected by a credit note."""

    title = "Invoice not editable"
    slug = "invoice-not-editable"

    def __init__(self, invoice_id: str, status: str) -> None:
        super().__init__(f"invoice {invoice_id} is {status}: only drafts are edited, deleted or issued; "
                         "correct an issued invoice with a credit note", invoice_id=invoice_id, status=status)


class InvoiceNotPayable(Conflict):
    """Payments are recorded on issued invoices only (not drafts, not void ones)."""

    title = "Invoice not payable"
    slug = "invoice-not-payable"

    def __init__(self, invoice_id: str, status: str) -> None:
        super().__init__(f"invoice {invoice_id} is {status}: payments are recorded on issued invoices only",
                         invoice_id=invoice_id, status=status)


class Overpayment(InvalidInput):
    """A payment larger than the amount due is REFUSED (never kept as a credit): 422 naming `amount`."""

    def __init__(self, amount: str, amount_due: str, currency: str) -> None:
        super().__init__(f"a payment of {amount} {currency} is more than the {amount_due} {currency} due: "
                         "overpayments are refused, not kept as credit",
                         errors={"amount": [f"at most the amount due, {amount_due} {currency}"]})


class InvoiceNotVoidable(Conflict):
    title = "Invoice cannot be voided"
    slug = "invoice-not-voidable"

    def __init__(self, invoice_id: str, why: str) -> None:
        super().__init__(f"invoice {invoice_id} cannot be voided: {why}", invoice_id=invoice_id)


class InvoiceNotCreditable(Conflict):
    """Credit notes correct issued invoices only: not drafts, not void invoices."""

    title = "Invoice cannot be credited"
    slug = "invoice-not-creditable"

    def __init__(self, invoice_id: str, status: str) -> None:
        super().__init__(f"invoice {invoice_id} is {status}: only issued invoices are credited", invoice_id=invoice_id,
                         status=status)


class CreditExceedsAmountDue(InvalidInput):
    """A credit note may not bring the invoice's amount due below zero: 422 naming `lines`."""

    def __init__(self, credit: str, amount_due: str, currency: str) -> None:
        super().__init__(f"a credit of {credit} {currency} is more than the {amount_due} {currency} still due "
                         "on the invoice: credit less, or remove payments first",
                         errors={"lines": [f"the credit note's total must be at most {amount_due} {currency}"]})


class CreditNoteWasAbandoned(Conflict):
    """The credit note's invoice refused its credit: it was abandoned unnumbered; issue a new one if still due."""

    title = "Credit note abandoned"
    slug = "credit-note-abandoned"

    def __init__(self, credit_note_id: str, why: str | None) -> None:
        super().__init__(f"credit note {credit_note_id} was abandoned, its invoice refused the credit: {why}; "
                         "issue a new credit note (another credit_note_id) for what is still to credit",
                         credit_note_id=credit_note_id)


class CreditNoteNotAbandonable(Conflict):
    title = "Credit note issued"
    slug = "credit-note-issued"

    def __init__(self, credit_note_id: str) -> None:
        super().__init__(f"credit note {credit_note_id} is issued: it counts and keeps its number",
                         credit_note_id=credit_note_id)


class CreditExceedsInvoiced(InvalidInput):
    """A credit note may not credit more of a (category, rate) than the invoice's base of it not yet credited."""

    def __init__(self, field: str, category: str, rate: str, base: str, left: str, currency: str) -> None:
        super().__init__(f"the credit note credits a base of {base} {currency} at {category} {rate} %, the invoice "
                         f"has {left} {currency} of it left to credit", errors={
                             field: [f"at most {left} {currency} of base at {category} {rate} % is left to credit"]})


class DraftIdTaken(Conflict):
    """A draft creation sent with the id of a draft created with other content: 409 naming invoice_id."""

    title = "Invoice id taken"
    slug = "invoice-id-taken"

    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"invoice_id {invoice_id} names a draft created with other content: a retry sends the same "
                         "content; a new draft takes a new invoice_id", invoice_id=invoice_id, field="invoice_id")


class IdAlreadyUsed(Conflict):
    """A new document's id (made from the client's key) already names something: 409 naming the field, and
    nothing about what it names or whose it is."""

    title = "Id already used"
    slug = "id-already-used"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is already used: a new document takes a new {field}", field=field,
                         errors={field: ["already used"]})


class QuoteNotFound(NotFound):
    def __init__(self, quote_id: str) -> None:
        super().__init__(f"quote {quote_id} does not exist in this account", quote_id=quote_id)


class StaleQuoteRevision(StaleRevision):
    def __init__(self, quote_id: str, given: int, current: int) -> None:
        super().__init__(f"quote {quote_id} is at revision {current}, the change was based on revision {given}; "
                         "re-read the quote and apply your change again", quote_id=quote_id, current_revision=current)


class QuoteNotAllowed(Conflict):
    """The quote's status does not allow this step (e.g. editing a sent quote, accepting a declined one)."""

    title = "Not allowed in this quote's status"
    slug = "quote-status-conflict"

    def __init__(self, quote_id: str, status: str, step: str) -> None:
        super().__init__(f"quote {quote_id} is {status}: it cannot be {step}", quote_id=quote_id, status=status)


class QuoteIdTaken(Conflict):
    """A draft creation sent with the id of a quote created with other content: 409 naming quote_id."""

    title = "Quote id taken"
    slug = "quote-id-taken"

    def __init__(self, quote_id: str) -> None:
        super().__init__(f"quote_id {quote_id} names a quote created with other content: a retry sends the same "
                         "content; a new quote takes a new quote_id", quote_id=quote_id, field="quote_id")


class QuoteExpired(Conflict):
    """The customer may not accept a quote past its validity (staff may still convert it)."""

    title = "Quote expired"
    slug = "quote-expired"

    def __init__(self, quote_id: str, valid_until: str) -> None:
        super().__init__(f"quote {quote_id} expired at the end of {valid_until}: it can no longer be accepted "
                         "(staff may still convert it to an invoice)", quote_id=quote_id, status="expired")


class RecurringInvoiceNotFound(NotFound):
    def __init__(self, recurring_invoice_id: str) -> None:
        super().__init__(f"recurring invoice {recurring_invoice_id} does not exist in this account",
                         recurring_invoice_id=recurring_invoice_id)


class StaleRecurringInvoiceRevision(StaleRevision):
    def __init__(self, recurring_invoice_id: str, given: int, current: int) -> None:
        super().__init__(f"recurring invoice {recurring_invoice_id} is at revision {current}, the change was based on "
                         f"revision {given}; re-read it and apply your change again",
                         recurring_invoice_id=recurring_invoice_id, current_revision=current)


class RecurringInvoiceIdTaken(Conflict):
    """A creation sent with the id of a recurring invoice created with other content: 409 naming
    recurring_invoice_id."""

    title = "Recurring invoice id taken"
    slug = "recurring-invoice-id-taken"

    def __init__(self, recurring_invoice_id: str) -> None:
        super().__init__(f"recurring_invoice_id {recurring_invoice_id} names a recurring invoice created with other "
                         "content: a retry sends the same content; a new one takes a new recurring_invoice_id",
                         recurring_invoice_id=recurring_invoice_id, field="recurring_invoice_id")


class RecurringInvoiceNotAllowed(Conflict):
    """Its state does not allow this step (a cancelled one is final; occurrence k is not the next to generate)."""

    title = "Not allowed in this recurring invoice's state"
    slug = "recurring-invoice-state-conflict"

    def __init__(self, recurring_invoice_id: str, why: str) -> None:
        super().__init__(f"recurring invoice {recurring_invoice_id}: {why}", recurring_invoice_id=recurring_invoice_id)


class ProcessingRestricted(Conflict):
    """The document is kept only for a legal obligation after its person asked for erasure (GDPR Art. 18): read
    only, until its retention ends (domain/retention.py)."""

    title = "Processing restricted"
    slug = "processing-restricted"

    def __init__(self, kind: str, document_id: str, retain_until: str) -> None:
        super().__init__(f"{kind.replace('_', ' ')} {document_id} is kept only to meet a legal obligation (the person "
                         f"it is for asked for erasure): processing is restricted until {retain_until}; it can be "
                         "read, not changed, paid, credited or sent", **{f"{kind}_id": document_id},
                         reason="processing_restricted", retain_until=retain_until)


class DocumentNotIssued(Conflict):
    """Only an issued document (numbered, frozen) has an e-invoice form (Factur-X XML): not a draft, nor one whose
    issue is not finished."""

    title = "Document not issued"
    slug = "document-not-issued"

    def __init__(self, kind: str, document_id: str, status: str) -> None:
        super().__init__(f"{kind.replace('_', ' ')} {document_id} is {status}: only issued documents have an "
                         "e-invoice (Factur-X) form", **{f"{kind}_id": document_id},
                         document_status=status)


class NotAnEInvoice(Conflict):
    """The issued document lacks what EN 16931 requires (the seller's or buyer's country, the seller's VAT number...);
    `field` names what is missing, in the document's seller or buyer snapshot."""

    title = "Not expressible as an EN 16931 e-invoice"
    slug = "not-an-e-invoice"

    def __init__(self, document_id: str, field: str, why: str) -> None:
        super().__init__(f"{document_id} cannot be an EN 16931 e-invoice: {field} {why}", document_id=document_id,
                         field=field)
