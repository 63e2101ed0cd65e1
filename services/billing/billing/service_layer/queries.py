"""Reads a view needs from the event store itself (read-your-writes): one document, and the account's day."""
from __future__ import annotations

from datetime import date

from billing.domain.account_defaults import utc_now
from billing.domain.credit_notes import CreditNote
from billing.domain.invoices import Invoice
from billing.domain.quotes import Quote
from billing.domain.recurring_invoices import RecurringInvoice
from billing.service_layer.unit_of_work import UnitOfWork


def account_today(account_id: str, uow: UnitOfWork, clock=utc_now) -> date:
    """Today in the account's time zone (what overdue is judged by)."""
    with uow:
        return uow.account_defaults.for_account(account_id).today(clock)


def account_time_zone(account_id: str, uow: UnitOfWork) -> str:
    """The account's time zone (a quote is valid through the end of its last day there)."""
    with uow:
        return uow.account_defaults.for_account(account_id).time_zone


def invoice(account_id: str, invoice_id: str, uow: UnitOfWork) -> Invoice:
    with uow:
        return uow.invoices.get(account_id, invoice_id)


def credit_note(account_id: str, credit_note_id: str, uow: UnitOfWork) -> CreditNote:
    with uow:
        return uow.credit_notes.get(account_id, credit_note_id)


def quote(account_id: str, quote_id: str, uow: UnitOfWork) -> Quote:
    with uow:
        return uow.quotes.get(account_id, quote_id)


def recurring_invoice(account_id: str, recurring_invoice_id: str, uow: UnitOfWork) -> RecurringInvoice:
    with uow:
        return uow.recurring_invoices.get(account_id, recurring_invoice_id)
