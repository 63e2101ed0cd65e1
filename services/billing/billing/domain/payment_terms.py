"""Payment terms and the due date they give an invoice issued on a given day.

  on_receipt        due the day it is issued
  net N             N days after the issue date (net 15, 30, 60)
  end_of_month N    the last day of the issue month, then N more days ("30 jours fin de mois":
                    issued 10 March, due 30 April; N = 0 is the end of the month itself)
  fixed_date        a date chosen by hand (`on`), from the issue date to MAX_DAYS after it

A due date is never before the issue date nor more than MAX_DAYS after it: `due_date` refuses a fixed
date that is (a typo such as 2062 for 2026 would otherwise leave an invoice never overdue).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from crm_platform.errors import InvalidInput

from billing.domain.calendar_days import lenient_day

KINDS = ("on_receipt", "net", "end_of_month", "fixed_date")
MAX_DAYS = 365


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors={field: [message]})


@dataclass(frozen=True)
class PaymentTerm:
    kind: Literal["on_receipt", "net", "end_of_month", "fixed_date"]
    days: int = 0
    on: date | None = None

    def __post_init__(self) -> None:
        if (problem := _problem(self.kind, self.days, self.on)) is not None:
            raise _refuse(f"payment_term.{problem[0]}", problem[1])

    @classmethod
    def parse(cls, data: object, field: str = "payment_term") -> PaymentTerm:
        """A term from a client's JSON object ({"kind": "net", "days": 30}); InvalidInput naming the field."""
        if not isinstance(data, dict):
            raise _refuse(field, "must be an object with a kind")
        unknown = sorted(str(key) for key in data if key not in ("kind", "days", "on"))
        if unknown:
            raise _refuse(f"{field}.{unknown[0]}", "is not a field of payment terms")
        on = data.get("on")
        if on is not None:
            # still read leniently (a week date is its day): a strict reading would also need the retries of
            # invoice, quote and recurring creations compared leniently, as their schedules and dates are
            on = lenient_day(on)
            if on is None:
                raise _refuse(f"{field}.on", "must be a date written YYYY-MM-DD")
        kind, days = data.get("kind"), data.get("days", 0)
        if (problem := _problem(kind, days, on)) is not None:
            raise _refuse(f"{field}.{problem[0]}", problem[1])
        return cls(kind, days, on)

    def to_dict(self) -> dict:
        data: dict = {"kind": self.kind}
        if self.kind in ("net", "end_of_month"):
            data["days"] = self.days
        if self.on is not None:
            data["on"] = self.on.isoformat()
        return data


def _problem(kind: object, days: object, on: object) -> tuple[str, str] | None:
    """The field and message of what is wrong with a term, or None."""
    if kind not in KINDS:
        return "kind", f"must be one of {', '.join(KINDS)}"
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        return "days", f"must be a whole number of days from 0 to {MAX_DAYS}"
    if kind in ("on_receipt", "fixed_date") and days:
        return "days", f"is not used with {kind}"
    if kind == "fixed_date" and (not isinstance(on, date) or isinstance(on, datetime)):
        return "on", "a fixed date term needs the date (YYYY-MM-DD)"
    if kind != "fixed_date" and on is not None:
        return "on", "is only used with fixed_date"
    return None


def due_date(issued_on: date, term: PaymentTerm) -> date:
    """The day an invoice issued on `issued_on` under `term` is due; never before the issue date."""
    if term.kind == "on_receipt":
        return issued_on
    if term.kind == "net":
        return issued_on + timedelta(days=term.days)
    if term.kind == "end_of_month":
        last_day = calendar.monthrange(issued_on.year, issued_on.month)[1]
        return issued_on.replace(day=last_day) + timedelta(days=term.days)
    if term.on < issued_on:
        raise _refuse("payment_term.on", f"the due date {term.on.isoformat()} is before the issue date "
                                         f"{issued_on.isoformat()}")
    if term.on > issued_on + timedelta(days=MAX_DAYS):
        raise _refuse("payment_term.on", f"the due date {term.on.isoformat()} is more than {MAX_DAYS} days after "
                                         f"the issue date {issued_on.isoformat()}")
    return term.on
