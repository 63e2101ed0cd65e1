"""A payment of an invoice as a client records it: amount, date, method, reference, each checked here."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Callable

from billing.domain.calendar_days import client_day, lenient_day
from billing.domain.document_lines import checked_text
from billing.domain.errors import InvalidInvoice
from billing.domain.money import parse_decimal, round_money

PAYMENT_METHODS = ("bank_transfer", "card", "cash", "check", "direct_debit", "other")
MAX_REFERENCE = 200
MAX_ID = 200


@dataclass(frozen=True)
class Payment:
    payment_id: str
    amount: Decimal
    paid_on: str  # ISO date (YYYY-MM-DD; as typed, such as "2026-W01-1", if recorded before dates were checked so)
    method: str
    reference: str | None = None


def checked_payment(payment_id: str | None, amount: object, paid_on: object, method: object, reference: object, *,
                    currency: str, today: date, issued_on: date | None = None,
                    read_day: Callable[[object], date | None] = client_day) -> Payment:
    """A client's payment, checked (naming the field); dated from the invoice's `issued_on` to `today`. `read_day`
    lenient_day compares a retry with a payment recorded before dates were written YYYY-MM-DD."""
    if not isinstance(method, str) or method not in PAYMENT_METHODS:
        raise InvalidInvoice("method", f"one of {', '.join(PAYMENT_METHODS)}")
    return Payment(checked_payment_id(payment_id) or f"payment:{uuid.uuid4()}", checked_amount(amount, currency),
                   checked_date(paid_on, "paid_on", earliest=issued_on, latest=today, read_day=read_day), method,
                   checked_text(reference, "reference", max_length=MAX_REFERENCE) or None)


def as_recorded(payment: Payment) -> Payment:
    """`payment` with its date read leniently, as a retry of it is (None unreadable: left as stored)."""
    day = lenient_day(payment.paid_on)
    return payment if day is None else replace(payment, paid_on=day.isoformat())


def checked_payment_id(payment_id: object) -> str | None:
    """A client's id of a payment (None: none given); 422 naming payment_id if it is not a short text."""
    if payment_id is None:
        return None
    if not isinstance(payment_id, str) or not payment_id.strip() or len(payment_id) > MAX_ID:
        raise InvalidInvoice("payment_id", f"a text of 1 to {MAX_ID} characters")
    return payment_id.strip()


def checked_amount(amount: object, currency: str) -> Decimal:
    """A positive amount in the currency's minor unit at most ("10.001" EUR is refused)."""
    value = parse_decimal(amount, "amount", max_digits=15, max_places=6)
    if value <= 0:
        raise InvalidInvoice("amount", "must be more than 0")
    if round_money(value, currency) != value:
        raise InvalidInvoice("amount", f"has more decimals than {currency} has")
    return value


def checked_date(value: object, field: str, *, earliest: date | None = None, latest: date | None = None,
                 read_day: Callable[[object], date | None] = client_day) -> str:
    """A date written YYYY-MM-DD, checked, as YYYY-MM-DD (one `read_day` reads); from `earliest` to `latest` when
    given. It was stored as typed: "2026-W01-1" (29 December 2025) was kept so, and compared as text."""
    parsed = read_day(value)
    if parsed is None:
        raise InvalidInvoice(field, "a date written YYYY-MM-DD")
    if earliest is not None and parsed < earliest:
        raise InvalidInvoice(field, f"must not be before the invoice's issue date ({earliest.isoformat()})")
    if latest is not None and parsed > latest:
        raise InvalidInvoice(field, f"must not be after today ({latest.isoformat()})")
    return parsed.isoformat()
