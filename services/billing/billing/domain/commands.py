"""Commands to the billing service (imperative): what a caller asks for, values as the client sent them.

Money and quantities are strings (or ints), never floats; dates ISO strings; the domain checks
each value and names the field. `revision`, when given, must be the document's current one (409).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CreateInvoiceDraft:
    """A draft for a contact; currency, payment term, notes and legal terms default to the account's."""

    account_id: str
    contact_id: str
    lines: tuple = ()  # of {"description", "quantity", "unit", "unit_price", "taxes": [...], "discount"?}
    currency: str | None = None
    payment_term: dict | None = None  # {"kind": "net", "days": 30}...
    notes: str | None = None
    legal_terms: str | None = None
    discount: dict | None = None  # {"kind": "percent"|"amount", "value": "10"}
    prices_include_tax: bool = False
    invoice_id: str | None = None  # given by a caller that retries (idempotent creation)
    period: dict | None = None  # the invoicing period {"start", "end"} (EN 16931 BG-14)


@dataclass(frozen=True)
class UpdateInvoiceDraft:
    account_id: str
    invoice_id: str
    revision: int | None
    changes: dict = field(default_factory=dict)  # any of invoices.DRAFT_FIELDS


@dataclass(frozen=True)
class DeleteInvoiceDraft:
    account_id: str
    invoice_id: str
    revision: int | None = None


@dataclass(frozen=True)
class IssueInvoice:
    """Number and freeze a draft; sent again (a retry, the sweep of reserved numbers) it finishes the same issue."""

    account_id: str
    invoice_id: str
    revision: int | None = None


@dataclass(frozen=True)
class RecordPayment:
    account_id: str
    invoice_id: str
    amount: str
    paid_on: str
    method: str  # invoices.PAYMENT_METHODS
    reference: str | None = None
    payment_id: str | None = None  # given by a caller that retries: the same payment is recorded once
    revision: int | None = None


@dataclass(frozen=True)
class RemovePayment:
    account_id: str
    invoice_id: str
    payment_id: str
    reason: str
    revision: int | None = None


@dataclass(frozen=True)
class VoidInvoice:
    account_id: str
    invoice_id: str
    reason: str
    revision: int | None = None


@dataclass(frozen=True)
class IssueCreditNote:
    """Credit an issued invoice: all of it (`lines` None) or the lines given."""

    account_id: str
    invoice_id: str
    reason: str
    lines: tuple | None = None
    credit_note_id: str | None = None  # given by a caller that retries: one credit note however often


@dataclass(frozen=True)
class FinishCreditNote:
    """Finish issuing a credit note whose number was reserved (the sweep of reserved numbers sends it)."""

    account_id: str
    credit_note_id: str
