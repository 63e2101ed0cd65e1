"""Handlers of the invoice and credit-note commands: one per command.

What they need of the unit of work (billing/service_layer/unit_of_work.py):
  uow.invoices         Repository[Invoice]
  uow.credit_notes     Repository[CreditNote]
  uow.number_series    NumberSeries (billing/domain/number_series.py)
  uow.customers        CustomerDirectory (billing/domain/customers.py), billing's projection of contacts
  uow.account_defaults AccountDefaultsSource (billing/domain/account_defaults.py), from the BillingSettings
and a `clock` (an aware datetime now) that bootstrap may inject; it defaults to the system's UTC clock.

Issuing writes in steps, each safe to repeat: the document is frozen (its IssueStarted event), its
number reserved, then its Issued event records the number. Sending the command again, or the sweep
of reserved numbers sending it, finishes an issue interrupted between two steps with the same number.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from crm_platform.event_store import ConcurrencyConflict

from billing.domain import commands
from billing.domain.account_defaults import utc_now
from billing.domain.credit_notes import CREDIT_NOTE_SERIES, CreditNote
from billing.domain.customers import Customer
from billing.domain.errors import CustomerDeleted, InvalidInvoice, InvoiceNotEditable, UnknownCustomer
from billing.domain.invoices import INVOICE_SERIES, Invoice
from billing.domain.numbering import NumberPattern

Clock = Callable[[], datetime]
ATTEMPTS = 3  # a write that lost a race to a retry of the same command is tried again on what that one wrote


def create_invoice_draft(cmd: commands.CreateInvoiceDraft, uow) -> Invoice:
    """A new draft, the account's defaults filling what the command leaves out; once per given invoice_id."""
    with uow:
        if cmd.invoice_id is not None and (existing := uow.invoices.find(cmd.account_id, cmd.invoice_id)):
            return existing
        customer = live_customer(uow, cmd.account_id, cmd.contact_id)
        defaults = uow.account_defaults.for_account(cmd.account_id)
        content = {
            "currency": cmd.currency or defaults.currency, "lines": list(cmd.lines),
            "payment_term": cmd.payment_term or defaults.payment_term,
            "notes": defaults.notes if cmd.notes is None else cmd.notes,
            "legal_terms": defaults.legal_terms if cmd.legal_terms is None else cmd.legal_terms,
            "discount": cmd.discount, "prices_include_tax": cmd.prices_include_tax,
        }
        invoice = Invoice.draft_new(cmd.account_id, customer.contact_id, content, cmd.invoice_id)
        uow.invoices.add(invoice)
        uow.commit()
    return invoice


def update_invoice_draft(cmd: commands.UpdateInvoiceDraft, uow) -> Invoice:
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        changes = dict(cmd.changes)
        if "contact_id" in changes:
            changes["contact_id"] = live_customer(uow, cmd.account_id, changes["contact_id"]).contact_id
        invoice.update_draft(cmd.revision, changes)
        uow.commit()
    return invoice


def delete_invoice_draft(cmd: commands.DeleteInvoiceDraft, uow) -> None:
    with uow:
        uow.invoices.get(cmd.account_id, cmd.invoice_id).delete_draft(cmd.revision)
        uow.commit()


def issue_invoice(cmd: commands.IssueInvoice, uow, clock: Clock = utc_now) -> Invoice:
    """Number and freeze the draft (or finish its issue: the same number, however often it is sent)."""
    for attempt in range(ATTEMPTS):
        try:
            with uow:
                invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
                if invoice.stage == "draft":
                    defaults = uow.account_defaults.for_account(cmd.account_id)
                    customer = live_customer(uow, cmd.account_id, invoice.contact_id)
                    invoice.start_issue(cmd.revision, defaults.today(clock), customer.contact_id, customer.buyer,
                                        defaults.seller, NumberPattern.parse(defaults.invoice_pattern).text)
                    uow.commit()
                if invoice.stage == "void":
                    raise InvoiceNotEditable(invoice.id, invoice.stage)
                if invoice.stage == "issuing":
                    seq = uow.number_series.reserve(cmd.account_id, INVOICE_SERIES, invoice.fiscal_year, invoice.id)
                    invoice.issue(NumberPattern.parse(invoice.number_pattern).render(invoice.fiscal_year, seq))
                    uow.commit()
                return invoice
        except ConcurrencyConflict:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def record_payment(cmd: commands.RecordPayment, uow, clock: Clock = utc_now) -> Invoice:
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        today = uow.account_defaults.for_account(cmd.account_id).today(clock)
        invoice.record_payment(cmd.revision, cmd.amount, cmd.paid_on, cmd.method, cmd.reference, today=today,
                               payment_id=cmd.payment_id)
        uow.commit()
    return invoice


def remove_payment(cmd: commands.RemovePayment, uow) -> Invoice:
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        invoice.remove_payment(cmd.revision, cmd.payment_id, cmd.reason)
        uow.commit()
    return invoice


def void_invoice(cmd: commands.VoidInvoice, uow) -> Invoice:
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        invoice.void(cmd.revision, cmd.reason)
        uow.commit()
    return invoice


def issue_credit_note(cmd: commands.IssueCreditNote, uow, clock: Clock = utc_now) -> CreditNote:
    """Credit the invoice (all of it, or the lines given) with a numbered credit note; once per credit_note_id."""
    with uow:
        invoice = uow.invoices.get(cmd.account_id, cmd.invoice_id)
        note = uow.credit_notes.find(cmd.account_id, cmd.credit_note_id) if cmd.credit_note_id else None
        if note is None:
            defaults = uow.account_defaults.for_account(cmd.account_id)
            note = CreditNote.start(invoice, None if cmd.lines is None else list(cmd.lines), cmd.reason,
                                    defaults.today(clock), defaults.seller,
                                    NumberPattern.parse(defaults.credit_note_pattern).text, cmd.credit_note_id)
            uow.credit_notes.add(note)
            uow.commit()
        elif note.invoice_id != invoice.id:
            raise InvalidInvoice("credit_note_id", "names a credit note of another invoice")
    return _finish_credit_note(uow, cmd.account_id, note.id)


def finish_credit_note(cmd: commands.FinishCreditNote, uow) -> CreditNote:
    """Finish a credit note whose issue was interrupted (the sweep of reserved numbers sends it)."""
    return _finish_credit_note(uow, cmd.account_id, cmd.credit_note_id)


def _finish_credit_note(uow, account_id: str, credit_note_id: str) -> CreditNote:
    """Take a started credit note off its invoice's amount due, then number it (each step once)."""
    for attempt in range(ATTEMPTS):
        try:
            with uow:
                note = uow.credit_notes.get(account_id, credit_note_id)
                if not note.issued:
                    invoice = uow.invoices.get(account_id, note.invoice_id)
                    invoice.credit(note.id, note.totals.total, note.issued_on)
                    uow.commit()
                    seq = uow.number_series.reserve(account_id, CREDIT_NOTE_SERIES, note.fiscal_year, note.id)
                    note.issue(NumberPattern.parse(note.number_pattern).render(note.fiscal_year, seq))
                    uow.commit()
                return note
        except ConcurrencyConflict:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def live_customer(uow, account_id: str, contact_id: object) -> Customer:
    """The contact a document is for (the survivor of a merge); 422 naming contact_id if unknown or deleted."""
    if not isinstance(contact_id, str) or not contact_id.strip():
        raise InvalidInvoice("contact_id", "the id of a contact of this account")
    customer = uow.customers.find(account_id, contact_id.strip())
    if customer is None:
        raise UnknownCustomer(contact_id)
    if customer.deleted:
        raise CustomerDeleted(contact_id)
    return customer
