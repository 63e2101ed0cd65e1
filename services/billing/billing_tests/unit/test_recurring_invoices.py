"""The RecurringInvoice aggregate: its occurrences, catch-up, pause, resume, edit, cancel, each k recorded once."""
import calendar
import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_platform.errors import InvalidInput

from billing.domain.errors import RecurringInvoiceIdTaken
from billing.domain.invoices import Invoice
from billing.domain.recurrence import Schedule
from billing.domain.recurring_invoice_events import RecurringInvoiceEdited, RecurringInvoiceGenerated
from billing.domain.recurring_invoices import (RecurringInvoice, RecurringInvoiceNotAllowed,
                                               StaleRecurringInvoiceRevision, occurrence_invoice_id)

from .test_invoices import WEB_DAYS

TEMPLATE = {"currency": "EUR", "lines": [WEB_DAYS], "payment_term": {"kind": "net", "days": 30}}
MONTHLY = {"anchor": "2026-01-31", "every": 1, "unit": "month"}


def scheduled(schedule=MONTHLY, mode="issue", **template) -> RecurringInvoice:
    return RecurringInvoice.schedule_new("acct-1", "contact:1", schedule, mode, {**TEMPLATE, **template},
                                         recurring_invoice_id="recurring-invoice:1")


def generate_all(recurring: RecurringInvoice, today: date) -> list:
    """What a scheduler does: generate every due occurrence, oldest first."""
    made = []
    for occurrence in recurring.due(today):
        recurring.record_generated(occurrence.k, occurrence.invoice_id)
        made.append(occurrence)
    return made


def test_a_monthly_schedule_from_the_31st_follows_the_month_ends_without_drifting():
    made = generate_all(scheduled(), date(2026, 5, 31))
    assert [o.on.isoformat() for o in made] == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]
    assert [o.period_end.isoformat() for o in made[:2]] == ["2026-02-27", "2026-03-30"]


def test_missed_occurrences_are_due_oldest_first_each_dated_with_its_own_period():
    recurring = scheduled({"anchor": "2026-01-01", "every": 1, "unit": "month"})
    generate_all(recurring, date(2026, 1, 1))  # January generated; then the scheduler was down
    due = recurring.due(date(2026, 4, 15))
    assert [(o.k, o.on.isoformat(), o.period_end.isoformat()) for o in due] == [
        (1, "2026-02-01", "2026-02-28"), (2, "2026-03-01", "2026-03-31"), (3, "2026-04-01", "2026-04-30")]
    assert [o.invoice_id for o in due] == [occurrence_invoice_id("acct-1", "recurring-invoice:1", k) for k in (1, 2, 3)]


def test_an_occurrences_invoice_bills_its_period_and_none_when_it_has_no_next_occurrence():
    recurring = scheduled()
    assert recurring.invoice_content(recurring.occurrence(1))["period"] == {"start": "2026-02-28", "end": "2026-03-30"}
    last = scheduled({"anchor": "9999-06-01", "every": 1, "unit": "year"}).occurrence(0)  # no year 10000
    assert last.period_end is None and last.period is None


def test_an_occurrence_before_the_year_1000_makes_an_invoice_without_a_period_rather_than_none():
    """Periods before the year 1000 are refused (the Factur-X writer cannot print them); a schedule that starts there
    (accepted before that rule) must not fail every round on its first occurrence."""
    stored = scheduled()  # a schedule of year 999 is refused from clients now: one stored before that rule
    created = dataclasses.replace(stored.pending[0], schedule={**stored.schedule.to_dict(), "anchor": "0999-12-01"})
    recurring = RecurringInvoice.from_history(stored.id, "acct-1", [created])
    invoice = Invoice.draft_new("acct-1", "contact:1", recurring.invoice_content(recurring.occurrence(0)), "invoice:1")
    assert invoice.draft["period"] is None and recurring.occurrence(1).on == date(1000, 1, 1)
    assert recurring.invoice_content(recurring.occurrence(1))["period"] == {"start": "1000-01-01", "end": "1000-01-31"}


def test_occurrence_k_is_recorded_once_and_only_in_order():
    recurring = scheduled()
    recurring.record_generated(0, "invoice:recurring-invoice:1:0")
    recurring.record_generated(0, "invoice:recurring-invoice:1:0")  # a duplicated scheduler: nothing new
    assert [type(e) for e in recurring.pending].count(RecurringInvoiceGenerated) == 1
    with pytest.raises(RecurringInvoiceNotAllowed):
        recurring.record_generated(0, "invoice:other")
    with pytest.raises(RecurringInvoiceNotAllowed):
        recurring.record_generated(2, "invoice:recurring-invoice:1:2")


def test_the_next_occurrence_must_be_due_and_the_schedule_active_to_generate():
    recurring = scheduled()
    assert recurring.check_can_generate(0, date(2026, 1, 31)).k == 0
    with pytest.raises(RecurringInvoiceNotAllowed):
        recurring.check_can_generate(0, date(2026, 1, 30))  # not due yet
    with pytest.raises(RecurringInvoiceNotAllowed):
        recurring.check_can_generate(1, date(2026, 3, 1))  # 0 comes first
    recurring.pause(None, date(2026, 1, 2))
    assert recurring.due(date(2026, 3, 1)) == []
    with pytest.raises(RecurringInvoiceNotAllowed):
        recurring.check_can_generate(0, date(2026, 3, 1))


def test_resuming_goes_on_from_the_resume_day_without_what_fell_due_while_paused():
    recurring = scheduled({"anchor": "2026-01-01", "every": 1, "unit": "month"})
    generate_all(recurring, date(2026, 1, 10))
    recurring.pause(None, date(2026, 1, 10))
    recurring.resume(None, date(2026, 4, 1))
    assert [o.on.isoformat() for o in recurring.due(date(2026, 4, 1))] == ["2026-04-01"]
    recurring.resume(None, date(2026, 4, 2))  # resuming an active one: nothing
    assert recurring.next_k == 3 and recurring.revision == 4


def test_resuming_far_after_the_anchor_finds_the_next_occurrence_quickly():
    recurring = scheduled({"anchor": "2000-01-03", "every": 1, "unit": "week"})
    recurring.pause(None, date(2000, 1, 1))
    recurring.resume(None, date(2026, 3, 11))
    assert recurring.occurrence(recurring.next_k).on == date(2026, 3, 16)
    assert recurring.occurrence(recurring.next_k - 1).on == date(2026, 3, 9)


def test_a_schedule_that_ends_after_a_count_generates_that_many():
    recurring = scheduled({**MONTHLY, "ends": "after", "count": 3})
    assert len(generate_all(recurring, date(2030, 1, 1))) == 3
    assert recurring.status(date(2030, 1, 1)) == "ended" and recurring.due(date(2031, 1, 1)) == []


def test_editing_the_template_applies_to_the_next_occurrences_only():
    recurring = scheduled()
    generate_all(recurring, date(2026, 2, 28))
    recurring.edit(3, {"notes": "Nouveau tarif", "lines": [{**WEB_DAYS, "unit_price": "500"}]})
    edited = recurring.pending[-1]
    assert isinstance(edited, RecurringInvoiceEdited) and edited.first_k == 0  # same dates: same k numbering
    assert recurring.invoice_content(recurring.occurrence(2))["lines"][0]["unit_price"] == "500"
    assert [o.k for o in recurring.due(date(2026, 3, 31))] == [2]


def test_a_new_anchor_starts_the_schedule_anew_after_the_last_invoiced_period():
    recurring = scheduled()
    generate_all(recurring, date(2026, 2, 28))  # k 0 (31 Jan) and 1 (28 Feb, billing up to 30 March)
    for inside in ("2026-02-15", "2026-03-15", "2026-03-30"):  # the last one is still billed: no period twice
        with pytest.raises(InvalidInput) as refused:
            recurring.edit(None, {"schedule": {"anchor": inside, "every": 1, "unit": "month"}})
        assert "2026-03-30" in refused.value.errors["schedule.anchor"][0]
    recurring.edit(None, {"schedule": {"anchor": "2026-03-31", "every": 2, "unit": "week", "ends": "after",
                                       "count": 2}})
    made = generate_all(recurring, date(2026, 12, 31))
    assert [(o.k, o.on.isoformat()) for o in made] == [(2, "2026-03-31"), (3, "2026-04-14")]
    assert made[0].period == {"start": "2026-03-31", "end": "2026-04-13"}


def test_a_schedule_edited_twice_before_its_next_invoice_checks_the_period_invoiced_not_a_k_of_the_new_one():
    recurring = scheduled()
    generate_all(recurring, date(2026, 2, 28))  # k 0 and 1, under the first schedule
    recurring.edit(None, {"schedule": {"anchor": "2026-06-01", "every": 1, "unit": "month"}})
    recurring.edit(None, {"schedule": {"anchor": "2026-05-01", "every": 1, "unit": "month"}})  # was a 422 on "k"
    assert [(o.k, o.on.isoformat()) for o in recurring.due(date(2026, 5, 1))] == [(2, "2026-05-01")]


def test_editing_from_a_stale_revision_or_an_unknown_field_is_refused():
    recurring = scheduled()
    with pytest.raises(StaleRecurringInvoiceRevision):
        recurring.edit(5, {"notes": "x"})
    with pytest.raises(InvalidInput) as refused:
        recurring.edit(None, {"number": "x"})
    assert "number" in refused.value.errors


def test_a_cancelled_recurring_invoice_is_final():
    recurring = scheduled()
    recurring.cancel(None, date(2026, 1, 2))
    recurring.cancel(None, date(2026, 1, 3))
    assert recurring.revision == 2 and recurring.due(date(2027, 1, 1)) == []
    for step in (lambda: recurring.resume(None, date(2026, 2, 1)), lambda: recurring.pause(None, date(2026, 2, 1)),
                 lambda: recurring.edit(None, {"notes": "x"})):
        with pytest.raises(RecurringInvoiceNotAllowed):
            step()


@pytest.mark.parametrize("field, value, path", [
    ("schedule", {"anchor": "2026-01-31", "every": 0, "unit": "month"}, "schedule.every"),
    ("schedule", {"anchor": "2026-01-31", "every": 1}, "schedule.unit"),
    ("mode", "send", "mode"),
    ("lines", [{**WEB_DAYS, "quantity": 1.5}], "lines.0.quantity"),
])
def test_a_bad_value_is_refused_naming_its_field(field, value, path):
    with pytest.raises(InvalidInput) as refused:
        if field == "mode":
            scheduled(mode=value)
        elif field == "schedule":
            scheduled(schedule=value)
        else:
            scheduled(**{field: value})
    assert path in refused.value.errors


def test_replaying_its_events_gives_the_same_recurring_invoice():
    recurring = scheduled()
    generate_all(recurring, date(2026, 3, 31))
    recurring.pause(None, date(2026, 4, 1))
    replayed = RecurringInvoice.from_history(recurring.id, "acct-1", recurring.pending)
    assert (replayed.state, replayed.next_k, replayed.generated, replayed.schedule, replayed.template) == \
        (recurring.state, recurring.next_k, recurring.generated, recurring.schedule, recurring.template)


@settings(max_examples=62, deadline=None)
@given(day=st.integers(1, 31), start_month=st.integers(1, 12), start_year=st.integers(2024, 2028))
def test_a_monthly_schedule_on_any_day_gives_one_invoice_a_month_on_that_day_or_the_months_last(
        day, start_month, start_year):
    last_day = calendar.monthrange(start_year, start_month)[1]
    anchor = date(start_year, start_month, min(day, last_day))
    recurring = scheduled({"anchor": anchor.isoformat(), "every": 1, "unit": "month"})
    four_years_later = date(start_year + 4, start_month, 1) - timedelta(days=1)
    made = generate_all(recurring, four_years_later)
    assert [o.k for o in made] == list(range(48))
    for o in made:
        months = start_month - 1 + o.k
        year, month = start_year + months // 12, months % 12 + 1
        assert o.on == date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))
        assert o.period_end == recurring.occurrence(o.k + 1).on - timedelta(days=1)
    assert len({(o.on.year, o.on.month) for o in made}) == 48  # one a month, none skipped, none twice


def test_a_recurring_invoice_needs_a_line_or_every_occurrence_would_fail_to_issue():
    with pytest.raises(InvalidInput) as refused:
        scheduled(lines=[])
    assert "lines" in refused.value.errors


def test_the_next_due_date_is_what_a_read_model_keeps_for_the_scheduler():
    recurring = scheduled({**MONTHLY, "ends": "after", "count": 2})
    assert recurring.next_due_on == date(2026, 1, 31)
    generate_all(recurring, date(2026, 1, 31))
    assert recurring.next_due_on == date(2026, 2, 28)
    recurring.pause(None, date(2026, 2, 1))
    assert recurring.next_due_on is None
    recurring.resume(None, date(2026, 2, 1))
    generate_all(recurring, date(2026, 12, 31))
    assert recurring.next_due_on is None  # ended after 2


def test_an_occurrences_invoice_is_named_with_the_account():
    assert occurrence_invoice_id("acct-1", "recurring-invoice:1", 2) != \
        occurrence_invoice_id("acct-2", "recurring-invoice:1", 2)
    assert "recurring-invoice:1" not in occurrence_invoice_id("acct-1", "recurring-invoice:1", 2)


# what older code took from a client: a week date (read as 29 December 2025) and the year 999
STORED_BEFORE_THE_RULE = ["2026-W01-1", "0999-12-01"]


def stored_before_the_rule(schedule: dict) -> RecurringInvoice:
    """A recurring invoice created before a client's schedule had its dates checked (Schedule.from_client): its
    event holds `schedule` as Schedule.parse read it then."""
    made = scheduled()
    created = dataclasses.replace(made.pending[0], schedule=Schedule.parse(schedule).to_dict())
    return RecurringInvoice.from_history(made.id, "acct-1", [created])


@pytest.mark.parametrize("anchor", ["2026-W01-1", "0999-01-01"])
def test_a_new_or_edited_schedule_with_a_week_date_or_a_year_before_1000_is_a_422_naming_its_anchor(anchor):
    schedule = {**MONTHLY, "anchor": anchor}
    for step in (lambda: scheduled(schedule), lambda: scheduled().edit(None, {"schedule": schedule})):
        with pytest.raises(InvalidInput) as refused:
            step()
        assert refused.value.status == 422 and list(refused.value.errors) == ["schedule.anchor"]


@pytest.mark.parametrize("anchor", STORED_BEFORE_THE_RULE)
def test_a_creation_made_before_that_rule_sent_again_is_that_creation_not_a_422(anchor):
    sent = {**MONTHLY, "anchor": anchor}
    recurring = stored_before_the_rule(sent)
    recurring.check_created_with({"contact:1"}, sent, "issue", TEMPLATE)  # answered as it is
    with pytest.raises(RecurringInvoiceIdTaken):
        recurring.check_created_with({"contact:1"}, {**sent, "every": 2}, "issue", TEMPLATE)


@pytest.mark.parametrize("anchor", STORED_BEFORE_THE_RULE)
def test_an_edit_sending_back_a_schedule_stored_before_that_rule_is_accepted_and_a_changed_one_is_checked(anchor):
    sent = {**MONTHLY, "anchor": anchor}
    recurring = stored_before_the_rule(sent)
    stored = recurring.schedule
    recurring.edit(None, {"schedule": sent, "notes": "as first sent"})
    recurring.edit(None, {"schedule": stored.to_dict(), "notes": "as the API shows it"})
    assert (recurring.schedule, recurring.first_k, recurring.revision) == (stored, 0, 3)
    assert recurring.template["notes"] == "as the API shows it"
    with pytest.raises(InvalidInput) as refused:
        recurring.edit(None, {"schedule": {**sent, "every": 2}})
    assert list(refused.value.errors) == ["schedule.anchor"] and recurring.schedule == stored


def test_editing_only_the_notes_of_a_schedule_of_year_999_stored_before_that_rule_is_accepted():
    recurring = stored_before_the_rule({**MONTHLY, "anchor": "0999-12-01"})
    recurring.edit(None, {"notes": "Nouveau tarif"})
    assert recurring.template["notes"] == "Nouveau tarif" and recurring.schedule.anchor == date(999, 12, 1)
