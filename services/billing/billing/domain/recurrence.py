"""When a recurring invoice is due: occurrence k of a schedule, always computed from its anchor.

Occurrence k (k = 0 is the anchor itself) is anchor + k x every units. Months and years are
counted from the anchor, never from the previous occurrence, and a day the month lacks becomes
its last day: monthly from 31 January gives 28 (or 29) February, 31 March, 30 April, 31 May: the
dates never drift to the 28th. Yearly from 29 February gives 28 February in other years.
`today` is the caller's date in the account's time zone: this module knows dates, not clocks.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from crm_platform.errors import InvalidInput

from billing.domain.calendar_days import lenient_day
from billing.domain.invoicing_periods import FIRST_PERIOD_YEAR, written_from_first_year

UNITS = ("week", "month", "year")
ENDS = ("never", "after", "on")
MAX_EVERY = 100
MAX_COUNT = 10_000
MAX_CATCH_UP = 100  # occurrences handed out per call; a scheduler asks again for the rest


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors={field: [message]})


@dataclass(frozen=True)
class Schedule:
    anchor: date
    every: int
    unit: Literal["week", "month", "year"]
    ends: Literal["never", "after", "on"] = "never"
    count: int | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if (problem := _problem(self)) is not None:
            raise _refuse(f"schedule.{problem[0]}", problem[1])

    @classmethod
    def from_client(cls, data: object, field: str = "schedule") -> Schedule:
        """A schedule a client sends (a creation, an edit): `parse`, its dates written YYYY-MM-DD from the year
        FIRST_PERIOD_YEAR (an invoice's period is refused before it; Python also reads an ISO week date such as
        "2026-W01-1"). Events are read with `parse` alone, so that a schedule stored before that rule still loads."""
        if isinstance(data, dict):
            for name in ("anchor", "until"):
                value = data.get(name)
                if isinstance(value, str) and not written_from_first_year(value):
                    raise _refuse(f"{field}.{name}",
                                  f"must be a date written YYYY-MM-DD, from the year {FIRST_PERIOD_YEAR}")
        return cls.parse(data, field)

    @classmethod
    def parse(cls, data: object, field: str = "schedule") -> Schedule:
        """A schedule from a client's JSON object; InvalidInput naming the field (e.g. "schedule.count")."""
        if not isinstance(data, dict):
            raise _refuse(field, "must be an object with anchor, every and unit")
        unknown = sorted(str(key) for key in data if key not in ("anchor", "every", "unit", "ends", "count", "until"))
        if unknown:
            raise _refuse(f"{field}.{unknown[0]}", "is not a field of a schedule")
        values = dict(data)
        for name in ("anchor", "until"):
            if values.get(name) is not None:
                values[name] = _parse_date(values[name], f"{field}.{name}")
        if "anchor" not in values or "every" not in values or "unit" not in values:
            missing = next(name for name in ("anchor", "every", "unit") if name not in values)
            raise _refuse(f"{field}.{missing}", "is required")
        try:
            return cls(**values)
        except InvalidInput as error:  # the same check, named under the caller's field
            (name, messages), = error.errors.items()
            raise InvalidInput(error.detail, errors={f"{field}.{name.split('.', 1)[1]}": messages}) from None

    def to_dict(self) -> dict:
        data: dict = {"anchor": self.anchor.isoformat(), "every": self.every, "unit": self.unit, "ends": self.ends}
        if self.count is not None:
            data["count"] = self.count
        if self.until is not None:
            data["until"] = self.until.isoformat()
        return data


def occurrence_on(schedule: Schedule, k: int) -> date:
    """The date of occurrence k (k >= 0; 0 is the anchor), counted from the anchor."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise _refuse("k", "must be a whole number from 0")
    anchor, steps = schedule.anchor, schedule.every * k
    try:
        if schedule.unit == "week":
            return anchor + timedelta(weeks=steps)
        months = anchor.month - 1 + steps * (12 if schedule.unit == "year" else 1)
        year, month = anchor.year + months // 12, months % 12 + 1
        return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))
    except (OverflowError, ValueError):
        raise _refuse("k", "the occurrence would be after the year 9999") from None


def has_occurrence(schedule: Schedule, k: int) -> bool:
    """Whether the schedule has an occurrence k (it has not ended before it)."""
    if schedule.ends == "after":
        return k < schedule.count
    if schedule.ends == "on":
        try:
            return occurrence_on(schedule, k) <= schedule.until
        except InvalidInput:
            return False
    return True


def next_occurrence_on(schedule: Schedule, already_generated: int) -> date | None:
    """The date of the next occurrence to generate, None when the schedule has ended."""
    if not has_occurrence(schedule, already_generated):
        return None
    try:
        return occurrence_on(schedule, already_generated)
    except InvalidInput:
        return None


def due_occurrences(schedule: Schedule, today: date, already_generated: int, *,
                    limit: int = MAX_CATCH_UP) -> list[int]:
    """The k of the occurrences due by `today` not generated yet, oldest first, at most `limit`.

    Occurrences 0..already_generated-1 exist; a scheduler back after an outage gets every missed
    one, each to be dated with its own occurrence date, in order.
    """
    if isinstance(already_generated, bool) or not isinstance(already_generated, int) or already_generated < 0:
        raise _refuse("already_generated", "must be a whole number from 0")
    due: list[int] = []
    k = already_generated
    while len(due) < limit:
        when = next_occurrence_on(schedule, k)
        if when is None or when > today:
            break
        due.append(k)
        k += 1
    return due


def _problem(schedule: Schedule) -> tuple[str, str] | None:
    """The field and message of what is wrong with a schedule, or None."""
    if not _is_date(schedule.anchor):
        return "anchor", "must be a date (YYYY-MM-DD)"
    if not _is_whole(schedule.every, 1, MAX_EVERY):
        return "every", f"must be a whole number from 1 to {MAX_EVERY}"
    if schedule.unit not in UNITS:
        return "unit", f"must be one of {', '.join(UNITS)}"
    if schedule.ends not in ENDS:
        return "ends", f"must be one of {', '.join(ENDS)}"
    if schedule.ends == "after":
        if not _is_whole(schedule.count, 1, MAX_COUNT):
            return "count", f"must be a whole number from 1 to {MAX_COUNT} when the schedule ends after a count"
    elif schedule.count is not None:
        return "count", "is only used when the schedule ends after a count"
    if schedule.ends == "on":
        if not _is_date(schedule.until):
            return "until", "must be a date (YYYY-MM-DD) when the schedule ends on a date"
        if schedule.until < schedule.anchor:
            return "until", "is before the first occurrence"
    elif schedule.until is not None:
        return "until", "is only used when the schedule ends on a date"
    return None


def _parse_date(value: object, field: str) -> date:
    """Read leniently (calendar_days.lenient_day): a schedule stored, or sent in a retry, before `from_client`."""
    if (day := lenient_day(value)) is None:
        raise _refuse(field, "must be a date written YYYY-MM-DD")
    return day


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)  # a datetime does not compare with a date


def _is_whole(value: object, lowest: int, highest: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= highest
