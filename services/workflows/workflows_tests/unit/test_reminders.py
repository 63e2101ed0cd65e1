"""Reminders' instants: days on the local calendar, hours absolute, across Paris' DST changes (issue 12)."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, strategies as st

from crm_platform.errors import InvalidInput

from workflows.domain.reminders import Offset, schedule

PARIS = ZoneInfo("Europe/Paris")


def paris(text):
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.mark.parametrize("due, before, fires", [
    # spring forward, 2026-03-29 02:00 -> 03:00: the day before 09:00 is 09:00, 23 hours earlier
    ("2026-03-29T09:00", "P1D", "2026-03-28T09:00"),
    ("2026-03-30T09:00", "P1D", "2026-03-29T09:00"),
    ("2026-03-30T09:00", "P2D", "2026-03-28T09:00"),
    ("2026-04-05T09:00", "P1W", "2026-03-29T09:00"),
    # the day part lands in the skipped hour: read with the winter offset, so one hour later on the clock
    ("2026-03-30T02:30", "P1D", "2026-03-29T03:30"),
    # hours are absolute: one hour before 03:30 (summer) is 01:30 (winter), the clock skipped 02:xx
    ("2026-03-29T03:30", "PT1H", "2026-03-29T01:30"),
    ("2026-03-29T09:00", "PT24H", "2026-03-28T08:00"),
    # fall back, 2026-10-25 03:00 -> 02:00: the day before 09:00 is 09:00, 25 hours earlier
    ("2026-10-25T09:00", "P1D", "2026-10-24T09:00"),
    ("2026-10-26T09:00", "P1D", "2026-10-25T09:00"),
    ("2026-10-25T09:00", "PT24H", "2026-10-24T10:00"),
    ("2026-10-25T09:00", "P1DT2H", "2026-10-24T07:00"),
])
def test_a_reminder_fires_at_the_intended_paris_time_across_dst(due, before, fires):
    due_at = paris(due)
    [reminder] = schedule(due_at.astimezone(timezone.utc).isoformat(), "Europe/Paris", [before])
    assert datetime.fromisoformat(reminder["at"]).astimezone(PARIS).replace(tzinfo=None) == \
        datetime.fromisoformat(fires)


def test_the_day_before_the_repeated_hour_is_its_first_occurrence():
    due = datetime(2026, 10, 26, 1, 30, tzinfo=timezone.utc)  # 02:30 CET, after the change
    [reminder] = schedule(due.isoformat(), "Europe/Paris", ["P1D"])
    assert reminder["at"] == "2026-10-25T00:30:00+00:00"  # 02:30 CEST, the first of the two 02:30s


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
       st.integers(min_value=1, max_value=30))
@example(datetime(2026, 3, 29, 2, 30), 1)  # a due time in the skipped hour: it is 03:30, and so is its reminder
def test_a_day_part_keeps_the_local_time_of_day_wherever_that_time_exists(local, days):
    local = local.replace(microsecond=0, second=0)
    due = local.replace(tzinfo=PARIS)
    target = (local - timedelta(days=days)).replace(tzinfo=PARIS)
    [reminder] = schedule(due.astimezone(timezone.utc).isoformat(), "Europe/Paris", [f"P{days}D"])
    fired = datetime.fromisoformat(reminder["at"]).astimezone(PARIS)
    if exists_in_paris(due) and exists_in_paris(target):  # neither in the skipped hour
        assert fired.replace(tzinfo=None) == local - timedelta(days=days)
    else:  # the due time as it is in Paris (02:30 on the day the clocks skip that hour is 03:30), days before
        actual_due = due.astimezone(timezone.utc).astimezone(PARIS).replace(tzinfo=None)
        assert fired.replace(tzinfo=None) in (actual_due - timedelta(days=days),
                                              actual_due - timedelta(days=days) + timedelta(hours=1))


def exists_in_paris(moment: datetime) -> bool:
    """Whether this wall-clock time is one Paris clocks show (not in the hour skipped in March)."""
    return moment.astimezone(timezone.utc).astimezone(PARIS).replace(tzinfo=None) == moment.replace(tzinfo=None)


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(timezone.utc)),
       st.integers(min_value=1, max_value=48 * 60))
def test_a_time_part_is_that_many_minutes_before_whatever_the_clocks_do(due, minutes):
    due = due.replace(microsecond=0)
    [reminder] = schedule(due.isoformat(), "Europe/Paris", [f"PT{minutes}M"])
    assert due - datetime.fromisoformat(reminder["at"]) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "P", "PT", "P1Y", "P1M", "1D", "P1DT", "PT0M", "P-1D", "P1.5D", "P999W",
                                  "PT1S", "p1d", "P1D\x00", "P1D\n"])
def test_durations_that_are_not_a_time_before_are_refused_naming_the_field(text):
    with pytest.raises(InvalidInput) as refused:
        schedule("2026-12-24T09:00:00+00:00", "Europe/Paris", [text])
    assert list(refused.value.errors) == ["reminders.0.before"]


def test_at_most_five_reminders_and_repeats_count_once_in_canonical_form():
    with pytest.raises(InvalidInput) as refused:
        schedule("2026-12-24T09:00:00+00:00", "Europe/Paris", ["PT1H"] * 6)
    assert "reminders" in refused.value.errors
    kept = schedule("2026-12-24T09:00:00+00:00", "Europe/Paris", ["PT60M", "PT1H", "P0DT1H", "P1W"])
    assert [r["before"] for r in kept] == ["P7D", "PT1H"]
    assert Offset.parse("P1DT1H30M").text() == "P1DT1H30M"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd", "europe/paris", "localtime"])
def test_an_unknown_time_zone_is_refused(zone):
    with pytest.raises(InvalidInput) as refused:
        schedule("2026-12-24T09:00:00+00:00", zone, ["P1D"])
    assert "time_zone" in refused.value.errors
