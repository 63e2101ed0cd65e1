"""When a task's reminders fire: offsets before its due time, as ISO 8601 durations ("P1D", "PT1H", "P1DT2H").

The day part (weeks and days) is counted on the calendar in the task's time zone, so that "one day before a
meeting at 09:00 in Paris" fires at 09:00 Paris time the day before, across a change to or from summer time
too; the time part (hours, minutes) is absolute: "one hour before" is always 3,600 seconds. A wall-clock time
a day part lands on that does not exist (the hour skipped in spring) is read with the offset in force before
the change, so it moves forward by that hour; one that exists twice (autumn) is its first occurrence.
Years and months are refused: "a month before" the 31st is not one instant. No kept library parses durations
keeping days apart from hours (isodate and friends fold them into one timedelta, where P1D == PT24H), hence
this regular expression.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_platform.errors import InvalidInput
from crm_platform.time_zones import is_iana_zone

MAX_REMINDERS = 5
MAX_BEFORE = timedelta(days=366)
_DURATION = re.compile(r"^P(?:(?P<weeks>\d{1,3})W)?(?:(?P<days>\d{1,3})D)?"
                       r"(?:T(?:(?P<hours>\d{1,4})H)?(?:(?P<minutes>\d{1,6})M)?)?$")


@dataclass(frozen=True)
class Offset:
    """How long before the due time: calendar days in the task's time zone, then an absolute duration."""

    days: int
    seconds: int

    @classmethod
    def parse(cls, text: str, field: str = "reminders") -> "Offset":
        match = _DURATION.fullmatch(text) if isinstance(text, str) else None  # not `$`: it lets "P1D\n" in
        if match is None or text in ("P", "PT") or text.endswith("T"):
            raise InvalidInput(f"{field}: {text!r} is not a duration before the due time", errors={
                field: ['an ISO 8601 duration in weeks, days, hours and minutes, such as "P1D", "PT1H" or "P1DT2H"']})
        parts = {name: int(value or 0) for name, value in match.groupdict().items()}
        offset = cls(parts["weeks"] * 7 + parts["days"], parts["hours"] * 3600 + parts["minutes"] * 60)
        if offset.days == 0 and offset.seconds == 0:
            raise InvalidInput(f"{field}: a reminder comes before the due time", errors={field: ["must not be zero"]})
        if timedelta(days=offset.days, seconds=offset.seconds) > MAX_BEFORE:
            raise InvalidInput(f"{field}: too long before", errors={field: ["at most 366 days before the due time"]})
        return offset

    def text(self) -> str:
        """The canonical form ("P1D", "PT1H30M"): a reminder's identity within its task."""
        hours, minutes = divmod(self.seconds // 60, 60)
        time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        return "P" + (f"{self.days}D" if self.days else "") + (f"T{time}" if time else "")

    def before(self, due_at: datetime, zone: ZoneInfo) -> datetime:
        """The instant (UTC) this offset before `due_at`: days on the local calendar, then the absolute part."""
        local = due_at.astimezone(zone).replace(tzinfo=None) - timedelta(days=self.days)
        shifted = local.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
        return shifted - timedelta(seconds=self.seconds)


def time_zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone; a 422 naming `field` for anything else (a path, an empty or unknown name)."""
    if not is_iana_zone(name):
        raise InvalidInput(f"{field} is not an IANA time zone", errors={field: ["an IANA time zone, e.g. Europe/Paris"]})
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{field} is not an IANA time zone",
                           errors={field: ["an IANA time zone, e.g. Europe/Paris"]}) from None


def utc_text(moment: datetime) -> str:
    """An instant as events and read models hold it: UTC, to the second (string order is time order)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def schedule(due_at: str, zone_name: str, befores: list[str]) -> list[dict]:
    """The reminders as a task holds them: [{"before": canonical duration, "at": UTC instant}], in firing order."""
    if len(befores) > MAX_REMINDERS:
        raise InvalidInput("too many reminders", errors={"reminders": [f"at most {MAX_REMINDERS}"]})
    zone, due = time_zone(zone_name), datetime.fromisoformat(due_at)
    offsets = {}
    for index, before in enumerate(befores):
        offset = Offset.parse(before, f"reminders.{index}.before")
        offsets[offset.text()] = offset
    return sorted(({"before": text, "at": utc_text(offset.before(due, zone))} for text, offset in offsets.items()),
                  key=lambda reminder: reminder["at"])
