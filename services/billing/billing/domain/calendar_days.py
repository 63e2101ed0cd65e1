"""Calendar dates as billing reads them: one reading for what a client sends, one for what older code took.

A client writes a date YYYY-MM-DD in ASCII digits (`client_day`). Python's date.fromisoformat reads more of ISO
8601: an ISO week date such as "2026-W01-1" is 29 December 2025, which a client meaning another day would not
notice. Billing took any ten-character string fromisoformat reads before it asked for YYYY-MM-DD (`lenient_day`):
what was stored then, and a client's retry of a request made then, are read with it, so that no aggregate fails to
load, nor a retry to be recognised, for a value older code accepted. Each caller names its own field in its errors.
"""
from __future__ import annotations

import re
from datetime import date

_WRITTEN = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def client_day(value: object) -> date | None:
    """The day `value` writes YYYY-MM-DD in ASCII digits, if it exists; None for anything else."""
    if isinstance(value, str) and _WRITTEN.fullmatch(value):
        return _read(value)
    return None


def lenient_day(value: object) -> date | None:
    """The day a ten-character ISO 8601 string reads as (a week date too), as billing read dates before
    `client_day`; None for anything else."""
    if isinstance(value, str) and len(value) == 10:
        return _read(value)
    return None


def _read(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
