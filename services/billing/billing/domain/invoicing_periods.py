"""The invoicing period of an invoice (EN 16931 BG-14: start BT-73, end BT-74): which days it bills.

Optional on a draft. EN 16931 lets either date stand alone; billing asks for both (a period a customer can
read, "from 1 January to 31 January") with the start on or before the end (BR-29). Kept as ISO date strings.
"""
from __future__ import annotations

from datetime import date

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


def _day(value: object, field: str) -> date:
    if value is None:
        raise InvalidInvoice(field, "is required (YYYY-MM-DD)")
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInvoice(field, "a date YYYY-MM-DD") from None
