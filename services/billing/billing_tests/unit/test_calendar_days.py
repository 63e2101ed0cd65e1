"""How billing reads a date: YYYY-MM-DD from a client, as Python reads it for what older code took."""
from datetime import date

import pytest

from billing.domain.calendar_days import client_day, lenient_day


def test_a_client_writes_yyyy_mm_dd_while_what_older_code_took_is_read_as_python_reads_it():
    assert client_day("2026-01-31") == lenient_day("2026-01-31") == date(2026, 1, 31)
    assert client_day("0999-12-01") == date(999, 12, 1)  # the year rules are the callers' (invoicing_periods)
    assert client_day("2026-W01-1") is None and lenient_day("2026-W01-1") == date(2025, 12, 29)


@pytest.mark.parametrize("value", ["2026-02-30", "31/01/2026", "20260131", "2026-01-31T00", "2026-1-031",
                                   "٢٠٢٦-٠١-٣١", "", None, 20260131, date(2026, 1, 31)])
def test_anything_else_is_no_day(value):
    assert client_day(value) is None and lenient_day(value) is None
