"""Commands about recurring invoices (imperative): what a caller, or the scheduler, asks for.

Values as the client sent them (money as strings, dates ISO strings); the domain checks each one
and names the field. `revision`, when given, must be the recurring invoice's current one (409).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CreateRecurringInvoice:
    """A template invoiced on a schedule; currency, payment term, notes and legal terms default to the account's."""

    account_id: str
    contact_id: str
    schedule: dict  # {"anchor": "2026-01-31", "every": 1, "unit": "month", "ends": "never"|"after"|"on", ...}
    mode: str = "draft"  # "issue": each invoice is issued when generated; "draft": left for staff to issue
    lines: tuple = ()
    currency: str | None = None
    payment_term: dict | None = None
    notes: str | None = None
    legal_terms: str | None = None
    discount: dict | None = None
    prices_include_tax: bool = False
    recurring_invoice_id: str | None = None  # given by a caller that retries (idempotent creation)


@dataclass(frozen=True)
class EditRecurringInvoice:
    account_id: str
    recurring_invoice_id: str
    revision: int | None
    changes: dict = field(default_factory=dict)  # any of recurring_invoices.EDITABLE


@dataclass(frozen=True)
class PauseRecurringInvoice:
    account_id: str
    recurring_invoice_id: str
    revision: int | None = None


@dataclass(frozen=True)
class ResumeRecurringInvoice:
    account_id: str
    recurring_invoice_id: str
    revision: int | None = None


@dataclass(frozen=True)
class CancelRecurringInvoice:
    account_id: str
    recurring_invoice_id: str
    revision: int | None = None


@dataclass(frozen=True)
class GenerateDueInvoices:
    """The scheduler's: generate every occurrence of this recurring invoice due today, oldest first, each once."""

    account_id: str
    recurring_invoice_id: str
