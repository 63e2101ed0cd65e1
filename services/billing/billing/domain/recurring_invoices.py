"""Recurring invoices: a template invoiced on a schedule, each occurrence generated exactly once.

Occurrence k (k = 0, 1, 2...) is dated by recurrence.occurrence_on from the schedule's anchor, and
its invoice's id is made from (recurring invoice id, k): a scheduler that restarts, or runs twice,
finds the invoice of occurrence k already there and never makes a second one. `due(today)` lists
the occurrences due and not generated, oldest first, each with its own date and period, so a
scheduler back after an outage catches up in order. `today` is the account's date.

- Pause and resume: what falls due while paused is not generated later (resuming goes on from
  the first occurrence on or after the day it resumes). Cancelling is final.
- Edit: applies to occurrences generated from then on; generated invoices are not touched. A new
  anchor, interval or unit starts the schedule anew from the next occurrence (its anchor must be
  after the last day of the last period invoiced, so no day is invoiced twice; a count then counts from it).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from crm_platform.aggregates import Aggregate
from crm_platform.errors import InvalidInput

from billing.domain import document_lines, recurrence
from billing.domain.document_ids import scoped_id
from billing.domain.invoicing_periods import FIRST_PERIOD_YEAR
from billing.domain.errors import (RecurringInvoiceIdTaken, RecurringInvoiceNotAllowed, RecurringInvoiceNotFound,
                                   StaleRecurringInvoiceRevision)
from billing.domain.recurrence import Schedule
from billing.domain.recurring_invoice_events import (RECURRING_INVOICE_EVENTS, RECURRING_SUBJECT,
                                                     RecurringInvoiceCancelled, RecurringInvoiceEdited,
                                                     RecurringInvoiceErased, RecurringInvoiceEvent,
                                                     RecurringInvoiceGenerated, RecurringInvoicePaused,
                                                     RecurringInvoiceResumed, RecurringInvoiceScheduled,
                                                     sealable_template, whole_template)

MODES = ("issue", "draft")
TEMPLATE_FIELDS = ("currency", "lines", "prices_include_tax", "payment_term", "notes", "legal_terms", "discount")
EDITABLE = ("contact_id", "schedule", "mode", *TEMPLATE_FIELDS)


@dataclass(frozen=True)
class Occurrence:
    k: int
    on: date
    period_end: date | None  # the day before the next occurrence (None past the year 9999)
    invoice_id: str  # the idempotency key (recurring invoice id, k) as the id of its invoice

    @property
    def period(self) -> dict | None:
        """The invoicing period its invoice bills (invoicing_periods.py): its date to the day before the next; None
        when it has no end (no next occurrence before the year 9999), as an invoice's period has both dates."""
        if self.period_end is None or self.on.year < FIRST_PERIOD_YEAR:  # a schedule stored from before that rule
            return None  # must still make its invoices: an invoice's period is refused before that year
        return {"start": self.on.isoformat(), "end": self.period_end.isoformat()}


def invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"invalid {field}: {message}", errors={field: [message]})


class RecurringInvoice(Aggregate):
    aggregate_type = "RecurringInvoice"
    event_classes = RECURRING_INVOICE_EVENTS
    not_found_error = RecurringInvoiceNotFound

    def __init__(self, recurring_invoice_id: str, account_id: str) -> None:
        super().__init__(recurring_invoice_id, account_id)
        self.state = "active"  # active, paused, cancelled
        self.contact_id = ""
        self.schedule: Schedule | None = None
        self.mode = "draft"
        self.template: dict = {}
        self.first_k = 0  # the k of the schedule's anchor
        self.next_k = 0  # the next occurrence to generate
        self.generated: dict[int, str] = {}  # k -> invoice id
        self.invoiced_through: date | None = None  # the last day the last occurrence invoiced bills (its period's end)
        self.created_with: dict = {}  # what RecurringInvoiceScheduled created, to know a retry of the creation

    @classmethod
    def schedule_new(cls, account_id: str, contact_id: str, schedule: object, mode: object, template: dict,
                     recurring_invoice_id: str | None = None) -> "RecurringInvoice":
        """A new active recurring invoice; `template` holds TEMPLATE_FIELDS as a client gives them (checked)."""
        recurring = cls(recurring_invoice_id or f"recurring-invoice:{uuid.uuid4()}", account_id)
        contact_id, template = checked_template({**template, "contact_id": contact_id})
        recurring._record(RecurringInvoiceScheduled(recurring.id, account_id, contact_id,
                                                    Schedule.from_client(schedule).to_dict(), checked_mode(mode),
                                                    sealable_template(template)))
        return recurring

    def check_created_with(self, contact_ids: set, schedule: object, mode: object, template: dict) -> None:
        """A creation sent again: RecurringInvoiceIdTaken (409 naming recurring_invoice_id) unless it is the one
        that created this recurring invoice (one of `contact_ids`, the same content), however it was edited since."""
        contact_id = self.created_with["contact_id"]
        if contact_id not in contact_ids or created_content(contact_id, schedule, mode, template) != self.created_with:
            raise RecurringInvoiceIdTaken(self.id)

    def edit(self, revision: int | None, changes: dict) -> None:
        """Apply a client's changes (any of EDITABLE) to occurrences generated from now on."""
        self._check(revision, "edited")
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise invalid(unknown[0], "unknown field, or not editable")
        current = {"contact_id": self.contact_id, "mode": self.mode, **self.template}
        merged = {**current, **changes}
        contact_id, template = checked_template({name: merged[name] for name in ("contact_id", *TEMPLATE_FIELDS)})
        schedule = self._sent_schedule(changes["schedule"]) if "schedule" in changes else self.schedule
        mode = checked_mode(merged["mode"])
        first_k = self.first_k
        if _dates_of(schedule) != _dates_of(self.schedule):
            self._check_new_anchor(schedule.anchor)
            first_k = self.next_k
        if (contact_id, schedule, mode, template, first_k) != (self.contact_id, self.schedule, self.mode,
                                                                self.template, self.first_k):
            self._record(RecurringInvoiceEdited(self.id, self.account_id, contact_id, schedule.to_dict(), mode,
                                                sealable_template(template), first_k))

    def _sent_schedule(self, sent: object) -> Schedule:
        """The schedule an edit sends: the stored one when it is that one sent back (compared as events are read: one
        stored before schedules' dates were checked, of year 999 or sent as a week date, is not refused for it);
        another is checked as a creation's."""
        try:
            if Schedule.parse(sent) == self.schedule:
                return self.schedule
        except InvalidInput:
            pass
        return Schedule.from_client(sent)

    def pause(self, revision: int | None, today: date) -> None:
        if self.state != "paused":
            self._check(revision, "paused")
            self._record(RecurringInvoicePaused(self.id, self.account_id, today.isoformat()))

    def resume(self, revision: int | None, today: date) -> None:
        """Go on from the first occurrence on or after `today` (again: nothing changes)."""
        if self.state != "active":
            self._check(revision, "resumed")
            self._record(RecurringInvoiceResumed(self.id, self.account_id, today.isoformat(),
                                                 self._first_k_on_or_after(today)))

    def cancel(self, revision: int | None, today: date) -> None:
        if self.state != "cancelled":
            self._check(revision, "cancelled")
            self._record(RecurringInvoiceCancelled(self.id, self.account_id, today.isoformat()))

    def erase(self) -> None:
        """Delete it for the erasure of its person (its key is shredded next); once."""
        if not self.deleted:
            self._record(RecurringInvoiceErased(self.id, self.account_id))

    @property
    def subject_key(self) -> str:
        """The key sealing its template's personal data (each invoice it generates has its own)."""
        return RECURRING_SUBJECT.format(recurring_invoice_id=self.id)

    # --- occurrences ---------------------------------------------------------------------------------------

    def occurrence(self, k: int) -> Occurrence:
        on = recurrence.occurrence_on(self.schedule, k - self.first_k)
        try:
            period_end = recurrence.occurrence_on(self.schedule, k + 1 - self.first_k) - timedelta(days=1)
        except InvalidInput:
            period_end = None
        return Occurrence(k, on, period_end, occurrence_invoice_id(self.account_id, self.id, k))

    def due(self, today: date, limit: int = recurrence.MAX_CATCH_UP) -> list[Occurrence]:
        """The occurrences due by `today` and not generated, oldest first (none unless active), at most `limit`."""
        if self.state != "active":
            return []
        ks = recurrence.due_occurrences(self.schedule, today, self.next_k - self.first_k, limit=limit)
        return [self.occurrence(self.first_k + k) for k in ks]

    @property
    def next_due_on(self) -> date | None:
        """The date of the next occurrence to generate; None when paused, cancelled or ended."""
        return next_due_on(self.schedule, self.first_k, self.next_k, self.state)

    def status(self, today: date) -> str:
        """active, paused, cancelled, or ended (active with no occurrence left)."""
        if self.state == "active" and not recurrence.has_occurrence(self.schedule, self.next_k - self.first_k):
            return "ended"
        return self.state

    def check_can_generate(self, k: int, today: date) -> Occurrence:
        """Occurrence k, if it is the next one due by `today` and the recurring invoice is active."""
        if self.state != "active":
            raise RecurringInvoiceNotAllowed(self.id, f"it is {self.state}: nothing is generated")
        due = self.due(today, limit=1)
        if not due or due[0].k != k:
            raise RecurringInvoiceNotAllowed(self.id, f"occurrence {k} is not the next one due (next: {self.next_k})")
        return due[0]

    def record_generated(self, k: int, invoice_id: str) -> None:
        """Occurrence k made `invoice_id`; recorded once (again with the same invoice: nothing changes).

        The state is not checked: the invoice exists (it was made while active), so it is recorded.
        """
        if k in self.generated:
            if self.generated[k] != invoice_id:
                raise RecurringInvoiceNotAllowed(self.id, f"occurrence {k} already made invoice {self.generated[k]}")
            return
        if k != self.next_k or not recurrence.has_occurrence(self.schedule, k - self.first_k):
            raise RecurringInvoiceNotAllowed(self.id, f"occurrence {k} is not the next one (next: {self.next_k})")
        occurrence = self.occurrence(k)
        self._record(RecurringInvoiceGenerated(
            self.id, self.account_id, self.contact_id, k, invoice_id, occurrence.on.isoformat(),
            None if occurrence.period_end is None else occurrence.period_end.isoformat()))

    def invoice_content(self, occurrence: Occurrence) -> dict:
        """What the invoice of `occurrence` starts from (invoices.Invoice.draft_new's content): the template, and the
        occurrence's period, so that invoices caught up on one day each say which period they bill."""
        return {**{name: (list(value) if name == "lines" else value) for name, value in self.template.items()},
                "period": occurrence.period}

    # --- rules shared by the steps above -------------------------------------------------------------------

    def _check(self, revision: int | None, step: str) -> None:
        if revision is not None and revision != self.revision:
            raise StaleRecurringInvoiceRevision(self.id, revision, self.revision)
        if self.state == "cancelled":
            raise RecurringInvoiceNotAllowed(self.id, f"it is cancelled: it cannot be {step}")

    def _check_new_anchor(self, anchor: date) -> None:
        """A new schedule starts after the last period invoiced, as its events recorded it: its invoices' periods
        never overlap one already billed (the schedule in force may be another by now, whose occurrence k is not
        the one invoiced)."""
        if self.invoiced_through is not None and anchor <= self.invoiced_through:
            raise invalid("schedule.anchor", f"must be after the last period invoiced, which ends on "
                                             f"{self.invoiced_through.isoformat()}")

    def _first_k_on_or_after(self, day: date) -> int:
        """The first k from next_k whose occurrence is on or after `day` (dates grow with k: a binary search)."""
        def before(k: int) -> bool:
            try:
                return recurrence.occurrence_on(self.schedule, k - self.first_k) < day
            except InvalidInput:  # past the year 9999
                return False

        low, step = self.next_k, 1
        while before(low + step - 1):
            low, step = low + step, step * 2
        high = low + step - 1  # before(high) is False
        while low < high:
            middle = (low + high) // 2
            low, high = (middle + 1, high) if before(middle) else (low, middle)
        return low

    def _apply(self, event: RecurringInvoiceEvent) -> None:
        if isinstance(event, (RecurringInvoiceScheduled, RecurringInvoiceEdited)):
            self.contact_id, self.mode = event.contact_id, event.mode
            self.schedule, self.template = Schedule.parse(event.schedule), whole_template(event.template)
            self.first_k = getattr(event, "first_k", 0)
            if isinstance(event, RecurringInvoiceScheduled):
                self.created_with = {"contact_id": self.contact_id, "schedule": self.schedule.to_dict(),
                                     "mode": self.mode, "template": self.template}
        elif isinstance(event, RecurringInvoicePaused):
            self.state = "paused"
        elif isinstance(event, RecurringInvoiceResumed):
            self.state, self.next_k = "active", event.next_k
        elif isinstance(event, RecurringInvoiceCancelled):
            self.state = "cancelled"
        elif isinstance(event, RecurringInvoiceErased):
            self.deleted = True
        elif isinstance(event, RecurringInvoiceGenerated):
            self.generated[event.k] = event.invoice_id
            self.next_k = event.k + 1
            self.invoiced_through = date.fromisoformat(event.period_end or event.occurrence_on)


def next_due_on(schedule: Schedule, first_k: int, next_k: int, state: str) -> date | None:
    """The date occurrence `next_k` falls due, None if there is none to wait for: what a read model keeps, from
    the events (schedule and first_k from Scheduled/Edited, next_k from Generated/Resumed, state), so that a
    scheduler asks only for the recurring invoices due."""
    if state != "active":
        return None
    return recurrence.next_occurrence_on(schedule, next_k - first_k)


def checked_template(fields: dict) -> tuple[str, dict]:
    """(contact_id, template) of a client's fields, checked as an invoice draft's are, with at least one line."""
    checked = document_lines.checked_draft(fields)
    if not checked["lines"]:
        raise invalid("lines", "a recurring invoice needs at least one line")
    return checked["contact_id"], {name: checked[name] for name in TEMPLATE_FIELDS}


def created_content(contact_id: str, schedule: object, mode: object, template: dict) -> dict:
    """A creation's content as `created_with` holds it, to compare a retry with it: checked as `schedule_new` checks
    it, but its schedule read as events are (a creation made before schedules' dates were checked, of year 999 or
    with a week date, sent again, is that creation: not a 422)."""
    contact_id, template = checked_template({**template, "contact_id": contact_id})
    return {"contact_id": contact_id, "schedule": Schedule.parse(schedule).to_dict(), "mode": checked_mode(mode),
            "template": template}


def checked_mode(mode: object) -> str:
    if mode not in MODES:
        raise invalid("mode", f"one of {', '.join(MODES)}")
    return mode


def _dates_of(schedule: Schedule) -> tuple:
    return schedule.anchor, schedule.every, schedule.unit


def occurrence_invoice_id(account_id: str, recurring_invoice_id: str, k: int) -> str:
    """The id of occurrence k's invoice: the same on every run, made with the account (ids are not secrets)."""
    return scoped_id("invoice", account_id, "recurring", recurring_invoice_id, k)
