"""The invoicing period of an invoice (EN 16931 BG-14: start BT-73, end BT-74): which days it bills.

Optional on a draft. EN 16931 lets either date stand alone; billing asks for both (a period a customer can
read, "from 1 January to 31 January") with the start on or before the end (BR-29). Kept as ISO date strings.
"""
from __future__ import annotations

from datetime import date

from billing.domain.calendar_days import client_day
from billing.domain.errors import InvalidInvoice


def checked_period(value: object, field: str = "period") -> dict | None:
    """A client's period as stored ({"start": "2026-01-01", "end": "2026-01-31"}), or None for none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInvoice(field, 'an object {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}')
    unknown = sorted(set(value) - {"start", "end"})
    if unknown:
        raise InvalidInvoice(f"{field}.{unknown[0]}", "unknown field")
    start, end = _day(value.get("start"), f"{field}.start"), _day(value.get("end"), f"{field}.end")
    if end < start:
        raise InvalidInvoice(f"{field}.end", f"must be on or after the start ({start.isoformat()})")
    return {"start": start.isoformat(), "end": end.isoformat()}


FIRST_PERIOD_YEAR = 1000  # the Factur-X writer prints an earlier year with fewer than four digits


def written_from_first_year(value: object) -> bool:
    """Whether `value` is a day written YYYY-MM-DD (calendar_days.client_day) from FIRST_PERIOD_YEAR: the dates this
    module takes, and a recurring schedule's (recurrence.Schedule.from_client)."""
    day = client_day(value)
    return day is not None and day.year >= FIRST_PERIOD_YEAR


def _day(value: object, field: str) -> date:
    """A calendar date written YYYY-MM-DD, from the year 1000: Python also reads ISO week dates ("2026-W01-1"),
    and the Factur-X writer prints a year before 1000 with fewer than four digits (an invalid BT-73/BT-74)."""
    if value is None:
        raise InvalidInvoice(field, "is required (YYYY-MM-DD)")
    day = client_day(value)
    if day is None:
        raise InvalidInvoice(field, "a date YYYY-MM-DD")
    if day.year < FIRST_PERIOD_YEAR:
        raise InvalidInvoice(field, f"a date from the year {FIRST_PERIOD_YEAR}")
    return day
