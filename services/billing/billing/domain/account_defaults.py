"""What a billing document takes from its account's settings: defaults, time zone, numbering, seller.

The BillingSettings aggregate (billing/domain/settings.py) owns these; the handlers read them through
`AccountDefaultsSource`, so that the invoice rules do not depend on how settings are stored.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from billing.domain.numbering import CREDIT_NOTE_PATTERN, INVOICE_PATTERN, QUOTE_PATTERN


@dataclass(frozen=True)
class AccountDefaults:
    currency: str = "EUR"
    time_zone: str = "Europe/Paris"  # IANA name: "today" for due dates and overdue is the account's day
    payment_term: dict = field(default_factory=lambda: {"kind": "net", "days": 30})  # PaymentTerm.to_dict()
    notes: str = ""
    legal_terms: str = ""  # e.g. the French late-payment penalties and the 40 EUR recovery indemnity
    invoice_pattern: str = INVOICE_PATTERN
    credit_note_pattern: str = CREDIT_NOTE_PATTERN
    quote_pattern: str = QUOTE_PATTERN
    seller: dict = field(default_factory=dict)  # the account's legal identity, frozen on issued documents

    def today(self, clock: Callable[[], datetime]) -> date:
        """The date it is now in the account's time zone (clock() answers an aware UTC datetime)."""
        return clock().astimezone(ZoneInfo(self.time_zone)).date()


class AccountDefaultsSource(abc.ABC):
    @abc.abstractmethod
    def for_account(self, account_id: str) -> AccountDefaults:
        """The account's defaults (built-in ones for an account that set none)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
