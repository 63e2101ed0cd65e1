import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.recurrence import (MAX_CATCH_UP, Schedule, due_occurrences, next_occurrence_on,
                                       occurrence_on)
from crm_platform.errors import InvalidInput


def monthly(anchor, every=1, **ends):
    return Schedule(anchor, every, "month", **ends)


def test_monthly_from_january_31_is_the_last_day_of_short_months_and_never_stuck_on_the_28th():
    schedule = monthly(date(2026, 1, 31))
    assert [occurrence_on(schedule, k) for k in range(6)] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)]
    assert occurrence_on(monthly(date(2027, 1, 31)), 1) == date(2027, 2, 28)
    assert occurrence_on(monthly(date(2028, 1, 31)), 1) == date(2028, 2, 29)


def test_every_two_weeks_every_quarter_and_yearly_from_february_29():
    assert occurrence_on(Schedule(date(2026, 12, 24), 2, "week"), 3) == date(2027, 2, 4)
    assert occurrence_on(monthly(date(2026, 11, 30), every=3), 1) == date(2027, 2, 28)
    assert occurrence_on(monthly(date(2026, 11, 30), every=3), 2) == date(2027, 5, 30)
    leap_day = Schedule(date(2024, 2, 29), 1, "year")
    assert [occurrence_on(leap_day, k) for k in range(5)] == [
        date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


@pytest.mark.parametrize("start_day", range(1, 32))
@pytest.mark.parametrize("every", [1, 2, 3, 12])
def test_monthly_dates_for_every_start_day_across_four_years(start_day, every):
    # Start days 29-31 only exist in some months: anchor in a month that has them.
    schedule = monthly(date(2025, 1, start_day), every=every)
    for k in range(48 // every + 1):
        when = occurrence_on(schedule, k)
        months = (when.year - 2025) * 12 + when.month - 1
        last_day = calendar.monthrange(when.year, when.month)[1]
        assert months == k * every                       # one occurrence per period, none skipped
        assert when.day == min(start_day, last_day)      # the anchor's day, or the month's last day


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(1, 12),
       st.sampled_from(["week", "month", "year"]), st.integers(0, 48))
def test_occurrences_are_counted_from_the_anchor_and_strictly_increase(anchor, every, unit, k):
    schedule = Schedule(anchor, every, unit)
    when, after = occurrence_on(schedule, k), occurrence_on(schedule, k + 1)
    assert after > when
    if unit == "week":
        assert (when - anchor).days == 7 * every * k
    else:
        assert when.day == min(anchor.day, calendar.monthrange(when.year, when.month)[1])


def test_three_missed_months_are_caught_up_oldest_first():
    schedule = monthly(date(2026, 1, 31))
    # Occurrences 0 (31 Jan) and 1 (28 Feb) were generated; the scheduler was down until 1 June.
    assert due_occurrences(schedule, date(2026, 6, 1), 2) == [2, 3, 4]  # 31 Mar, 30 Apr, 31 May
    assert due_occurrences(schedule, date(2026, 6, 1), 5) == []
    assert due_occurrences(schedule, date(2026, 1, 30), 0) == []
    assert due_occurrences(schedule, date(2026, 1, 31), 0) == [0]


def test_schedules_end_after_a_count_or_on_a_date():
    after_three = monthly(date(2026, 1, 15), ends="after", count=3)
    assert due_occurrences(after_three, date(2030, 1, 1), 0) == [0, 1, 2]
    assert next_occurrence_on(after_three, 3) is None
    until = monthly(date(2026, 1, 31), ends="on", until=date(2026, 4, 30))
    assert due_occurrences(until, date(2030, 1, 1), 0) == [0, 1, 2, 3]  # 30 April is the last day included
    assert next_occurrence_on(until, 4) is None
    assert next_occurrence_on(until, 1) == date(2026, 2, 28)


def test_catching_up_is_bounded_and_the_next_call_continues():
    weekly = Schedule(date(2000, 1, 3), 1, "week")
    first = due_occurrences(weekly, date(2026, 1, 1), 0)
    assert first == list(range(MAX_CATCH_UP))
    assert due_occurrences(weekly, date(2026, 1, 1), len(first), limit=3) == [MAX_CATCH_UP, MAX_CATCH_UP + 1,
                                                                              MAX_CATCH_UP + 2]


def test_an_occurrence_past_the_year_9999_ends_the_schedule_instead_of_crashing():
    schedule = Schedule(date(9999, 6, 1), 1, "year")
    assert due_occurrences(schedule, date(9999, 12, 31), 0) == [0]
    assert next_occurrence_on(schedule, 1) is None
    with pytest.raises(InvalidInput):
        occurrence_on(schedule, 1)


@pytest.mark.parametrize("data", [
    {"anchor": "2026-01-31", "every": 1, "unit": "month", "ends": "never"},
    {"anchor": "2026-01-31", "every": 2, "unit": "week", "ends": "after", "count": 10},
    {"anchor": "2026-01-31", "every": 1, "unit": "year", "ends": "on", "until": "2030-01-31"},
])
def test_parse_reads_what_to_dict_writes(data):
    schedule = Schedule.parse(data)
    assert schedule.to_dict() == data
    assert Schedule.parse(schedule.to_dict()) == schedule


@pytest.mark.parametrize("data, field", [
    ("monthly", "recurrence"), ({"every": 1, "unit": "month"}, "recurrence.anchor"),
    ({"anchor": "2026-02-30", "every": 1, "unit": "month"}, "recurrence.anchor"),
    ({"anchor": "2026-01-31", "every": 0, "unit": "month"}, "recurrence.every"),
    ({"anchor": "2026-01-31", "every": "1", "unit": "month"}, "recurrence.every"),
    ({"anchor": "2026-01-31", "every": 1, "unit": "day"}, "recurrence.unit"),
    ({"anchor": "2026-01-31", "every": 1, "unit": "month", "ends": "after"}, "recurrence.count"),
    ({"anchor": "2026-01-31", "every": 1, "unit": "month", "ends": "after", "count": 0}, "recurrence.count"),
    ({"anchor": "2026-01-31", "every": 1, "unit": "month", "count": 3}, "recurrence.count"),
    ({"anchor": "2026-01-31", "every": 1, "unit": "month", "ends": "on"}, "recurrence.until"),
    ({"anchor": "2026-01-31", "every": 1, "unit": "month", "ends": "on", "until": "2026-01-30"}, "recurrence.until"),
    ({"anchor": "2026-01-31", "every": 1, "unit": "month", "ends": "sometime"}, "recurrence.ends"),
    ({"anchor": "2026-01-31", "every": 1, "unit": "month", "cron": "* * *"}, "recurrence.cron"),
])
def test_parse_refuses_bad_schedules_naming_the_field(data, field):
    with pytest.raises(InvalidInput) as raised:
        Schedule.parse(data, field="recurrence")
    assert list(raised.value.errors) == [field]


@pytest.mark.parametrize("data, field", [
    ({"anchor": "2026-W01-1", "every": 1, "unit": "month"}, "recurrence.anchor"),  # Python reads it: 29 Dec 2025
    ({"anchor": "0999-12-01", "every": 1, "unit": "month"}, "recurrence.anchor"),  # its invoices could have no period
    ({"anchor": "2026-01-31", "every": 1, "unit": "month", "ends": "on", "until": "2027-W01-1"}, "recurrence.until"),
])
def test_a_client_s_schedule_has_calendar_dates_from_the_year_1000_while_a_stored_one_still_loads(data, field):
    Schedule.parse(data)  # an event holding it (from before the rule) is still read
    with pytest.raises(InvalidInput) as raised:
        Schedule.from_client(data, field="recurrence")
    assert list(raised.value.errors) == [field]
