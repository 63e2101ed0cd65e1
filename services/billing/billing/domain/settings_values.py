"""Checks of the account-wide billing defaults: currency, time zone, numbering patterns, payment term, texts."""
from __future__ import annotations

import re
import zoneinfo
from functools import cache

from babel.numbers import list_currencies

from crm_platform.errors import InvalidInput

SERIES = ("invoices", "credit_notes", "quotes")
PAYMENT_TERM_KINDS = ("on_receipt", "net", "end_of_month")  # a fixed date is a document's, not a default
MAX_TERM_DAYS = 365
# The numbering pattern language (billing.domain.numbering renders it): literal text and {YYYY} {YY} {SEQ:n}
PATTERN = re.compile(r"^(?:[A-Za-z0-9_./ -]|\{YYYY\}|\{YY\}|\{SEQ(?::[1-9])?\})*$")


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{name}: {message}", errors={name: [message]})


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_currency(value, name: str) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != 3 or code not in list_currencies():
        raise _bad(name, "an ISO 4217 currency code, e.g. EUR")
    return code


def check_time_zone(value, name: str) -> str:
    if not isinstance(value, str) or value not in _time_zones():
        raise _bad(name, "an IANA time zone, e.g. Europe/Paris")
    return value


def check_numbering(patterns: dict, name: str) -> dict:
    errors = {}
    for series, pattern in patterns.items():
        where = f"{name}.{series}"
        if series not in SERIES:
            errors[where] = ["unknown series; known: " + ", ".join(SERIES)]
        elif not isinstance(pattern, str) or not 1 <= len(pattern) <= 40 or not PATTERN.match(pattern):
            errors[where] = ["a pattern of letters, digits, '-', '_', '/', '.' and {YYYY}, {YY}, {SEQ:n}"]
        elif pattern.count("{SEQ") != 1:
            errors[where] = ["exactly one {SEQ} or {SEQ:n} token"]
    if errors:
        raise InvalidInput("a numbering pattern is not valid", errors=errors)
    return patterns


def check_payment_term(value, name: str) -> dict:
    if not isinstance(value, dict) or set(value) - {"kind", "days"}:
        raise _bad(name, "an object: kind (" + ", ".join(PAYMENT_TERM_KINDS) + ") and days")
    kind, days = value.get("kind"), value.get("days", 0)
    if kind not in PAYMENT_TERM_KINDS:
        raise InvalidInput("unknown payment term", errors={f"{name}.kind": ["one of " + ", ".join(PAYMENT_TERM_KINDS)]})
    if type(days) is not int or not 0 <= days <= MAX_TERM_DAYS or (kind == "on_receipt" and days):
        raise InvalidInput("bad payment term days", errors={
            f"{name}.days": [f"a whole number of days from 0 to {MAX_TERM_DAYS} (0 when due on receipt)"]})
    return {"kind": kind, "days": days}


def check_text(value, name: str, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise _bad(name, f"a text of at most {max_length} characters")
    return value.strip()
