"""A payment of an invoice as a client records it: amount, date, method, reference, each checked here."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing.domain.document_lines import checked_text
from billing.domain.errors import InvalidInvoice
from billing.domain.money import parse_decimal, round_money

PAYMENT_METHODS = ("bank_transfer", "card", "cash", "check", "direct_debit", "other")
MAX_REFERENCE = 200


@dataclass(frozen=True)
class Payment:
    payment_id: str
    amount: Decimal
    paid_on: str  # ISO date
    method: str
    reference: str | None = None


def checked_payment(payment_id: str | None, amount: object, paid_on: object, method: object, reference: object, *,
                    currency: str, today: date) -> Payment:
    """A client's payment, checked (naming the field); it may not be dated after `today`."""
    if method not in PAYMENT_METHODS:
        raise InvalidInvoice("method", f"one of {', '.join(PAYMENT_METHODS)}")
    return Payment(payment_id or f"payment:{uuid.uuid4()}", checked_amount(amount, currency),
                   checked_date(paid_on, "paid_on", latest=today), method,
                   checked_text(reference, "reference", max_length=MAX_REFERENCE) or None)


def checked_amount(amount: object, currency: str) -> Decimal:
    """A positive amount in the currency's minor unit at most ("10.001" EUR is refused)."""
    value = parse_decimal(amount, "amount", max_digits=15, max_places=6)
    if value <= 0:
        raise InvalidInvoice("amount", "must be more than 0")
    if round_money(value, currency) != value:
        raise InvalidInvoice("amount", f"has more decimals than {currency} has")
    return value


def checked_date(value: object, field: str, *, latest: date | None = None) -> str:
    """An ISO date (YYYY-MM-DD) as given, checked; not after `latest` when given."""
    try:
        parsed = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInvoice(field, "a date written YYYY-MM-DD")
    if latest is not None and parsed > latest:
        raise InvalidInvoice(field, f"must not be after today ({latest.isoformat()})")
    return value
