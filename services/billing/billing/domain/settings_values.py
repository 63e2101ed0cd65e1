"""Checks of the account-wide billing defaults: currency, time zone, numbering patterns, payment term, texts.

Currency, patterns and terms are read by the same rules the documents use (money, numbering, payment_terms).
"""
from __future__ import annotations

from crm_platform.errors import InvalidInput
from crm_platform.time_zones import is_iana_zone

from billing.domain.money import parse_currency
from billing.domain.numbering import NumberPattern
from billing.domain.payment_terms import PaymentTerm

SERIES = ("invoices", "credit_notes", "quotes")


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{name}: {message}", errors={name: [message]})


def check_currency(value, name: str) -> str:
    return parse_currency(value, name)


def check_time_zone(value, name: str) -> str:
    if not is_iana_zone(value):
        raise _bad(name, "an IANA time zone, e.g. Europe/Paris")
    return value


def check_numbering(patterns: dict, name: str) -> dict:
    errors, checked = {}, {}
    for series, pattern in patterns.items():
        where = f"{name}.{series}"
        if series not in SERIES:
            errors[where] = ["unknown series; known: " + ", ".join(SERIES)]
            continue
        try:
            checked[series] = NumberPattern.parse(pattern, where).text
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput("a numbering pattern is not valid", errors=errors)
    return checked


def check_payment_term(value, name: str) -> dict:
    term = PaymentTerm.parse(value, name)
    if term.kind == "fixed_date":  # a date is one document's term, never every document's
        raise InvalidInput("a fixed date is no default", errors={f"{name}.kind": ["on_receipt, net or end_of_month"]})
    return term.to_dict()


def check_text(value, name: str, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise _bad(name, f"a text of at most {max_length} characters")
    return value.strip()
