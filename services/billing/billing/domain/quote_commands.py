"""Commands about quotes (imperative): what a caller asks for, values as the client sent them.

Money and quantities are strings (or ints), never floats; dates ISO strings; the domain checks
each value and names the field. `revision`, when given, must be the quote's current one (409).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CreateQuoteDraft:
    """A draft for a contact; currency and notes default to the account's, validity to 30 days after sending."""

    account_id: str
    contact_id: str
    lines: tuple = ()  # of {"description", "quantity", "unit", "unit_price", "taxes": [...], "discount"?}
    currency: str | None = None
    valid_until: str | None = None  # the last day it may be accepted (YYYY-MM-DD)
    notes: str | None = None
    legal_terms: str | None = None
    discount: dict | None = None
    prices_include_tax: bool = False
    quote_id: str | None = None  # given by a caller that retries (idempotent creation)


@dataclass(frozen=True)
class UpdateQuoteDraft:
    account_id: str
    quote_id: str
    revision: int | None
    changes: dict = field(default_factory=dict)  # any of quotes.DRAFT_FIELDS


@dataclass(frozen=True)
class DeleteQuoteDraft:
    account_id: str
    quote_id: str
    revision: int | None = None


@dataclass(frozen=True)
class SendQuote:
    """Number and freeze a draft; sent again (a retry, the sweep of reserved numbers) it finishes the same send."""

    account_id: str
    quote_id: str
    revision: int | None = None


@dataclass(frozen=True)
class AcceptQuote:
    """The customer accepted (staff record it on their behalf); refused once the quote expired."""

    account_id: str
    quote_id: str
    revision: int | None = None


@dataclass(frozen=True)
class DeclineQuote:
    account_id: str
    quote_id: str
    reason: str | None = None
    revision: int | None = None


@dataclass(frozen=True)
class ConvertQuote:
    """Make a draft invoice carrying the quote's lines (staff; sent, expired or accepted quotes). Idempotent."""

    account_id: str
    quote_id: str
