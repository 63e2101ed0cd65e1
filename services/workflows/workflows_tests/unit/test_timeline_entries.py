"""Which of workflows' events make entries on contacts' timelines: the history of their cards and tasks, with ids,
stage ids and states only, never what a user typed."""
from datetime import datetime, timezone

import pytest

from crm_platform.timeline import TimelineEntry

from workflows.domain.cards import (CardArchived, CardContactsRelinked, CardCreated, CardEdited, CardLost, CardMoved,
                                    CardPersonalDataErased, CardRepositioned, CardWon)
from workflows.domain.task_events import (TaskCompleted, TaskCreated, TaskDeleted, TaskPersonalDataErased,
                                          TaskReminderDue, TaskReopened, TaskRescheduled, TaskUpdated)
from workflows.service_layer.timeline_entries import ENTRY_EVENTS, KINDS, timeline_entries

AT = datetime(2026, 12, 1, 10, 0, 0, 500000, tzinfo=timezone.utc)
TYPED = ("Rénovation chez Louise", "12 rue des Lilas", "trop cher", "Rappeler Louise", "code 1234", "user:marc")


def card(cls, status="open", stage_id="stage:2", others=("contact:3",), value=None, currency=None, **extra):
    return cls("card:1", "acct-1", "board:1", stage_id, "a0", "Rénovation chez Louise", "12 rue des Lilas",
               "contact:2", list(others), status, "2026-11-30T09:00:00+00:00", "2026-12-01T10:00:00+00:00",
               value, currency, None, None, "trop cher" if status == "lost" else None, **extra)


def task(cls, contact_id="contact:2", status="open", **extra):
    return cls("task:1", "acct-1", "Rappeler Louise", "code 1234", "2026-12-05T09:00:00+00:00", None, "Europe/Paris",
               "card" if contact_id else None, "card:1" if contact_id else None, contact_id, "user:marc",
               [{"before": "P1D", "at": "2026-12-04T09:00:00+00:00"}], "2026-12-01T10:00:00+00:00", [], status,
               "2026-12-01T10:00:00+00:00", "2026-12-02T08:00:00+00:00" if status == "done" else None, **extra)


def test_a_card_created_is_an_entry_for_its_main_contact_and_one_for_each_other():
    entries = timeline_entries(card(CardCreated, value="1500.00", currency="EUR"), "ev-1", AT)
    summary = {"board_id": "board:1", "stage_id": "stage:2", "status": "open", "value": "1500.00", "currency": "EUR"}
    assert entries == [
        ("contact:2", TimelineEntry("ev-1", AT, "card.created", "card", "card:1", {**summary, "role": "main_contact"})),
        ("contact:3", TimelineEntry("ev-1:contact:3", AT, "card.created", "card", "card:1",
                                    {**summary, "role": "other_contact"}))]


def test_a_card_moved_between_stages_says_from_where_to_where():
    [(contact_id, entry)] = timeline_entries(card(CardMoved, others=(), from_stage_id="stage:1"), "ev-2", AT)
    assert (contact_id, entry.kind, entry.summary) == ("contact:2", "card.moved", {
        "board_id": "board:1", "from_stage_id": "stage:1", "to_stage_id": "stage:2", "status": "open",
        "role": "main_contact"})


def test_a_card_moved_within_its_stage_is_no_move():
    assert timeline_entries(card(CardMoved, from_stage_id="stage:2"), "ev-2", AT) == []


@pytest.mark.parametrize("cls, status, kind", [(CardWon, "won", "card.won"), (CardLost, "lost", "card.lost"),
                                               (CardArchived, "archived", "card.archived")])
def test_a_card_closed_or_archived_is_an_entry_with_its_state(cls, status, kind):
    [(_, entry), _other] = timeline_entries(card(cls, status=status), "ev-3", AT)
    assert (entry.kind, entry.summary["status"], entry.summary["stage_id"]) == (kind, status, "stage:2")


@pytest.mark.parametrize("cls, kind, status, extra, summary", [
    (TaskCreated, "task.created", "open", {}, {}),
    (TaskRescheduled, "task.rescheduled", "open", {"previous_due_at": "2026-12-03T09:00:00+00:00"},
     {"previous_due_at": "2026-12-03T09:00:00+00:00"}),
    (TaskCompleted, "task.completed", "done", {}, {"completed_at": "2026-12-02T08:00:00+00:00"}),
    (TaskReopened, "task.reopened", "open", {}, {}),
    (TaskReminderDue, "task.reminder_due", "open",
     {"reminder": "P1D", "remind_at": "2026-12-04T09:00:00+00:00", "fired_at": "2026-12-04T09:00:20+00:00"},
     {"reminder": "P1D", "remind_at": "2026-12-04T09:00:00+00:00", "late": False}),
])
def test_a_tasks_life_is_on_its_contacts_timeline(cls, kind, status, extra, summary):
    assert timeline_entries(task(cls, status=status, **extra), "ev-4", AT) == [
        ("contact:2", TimelineEntry("ev-4", AT, kind, "task", "task:1", {
            "due_at": "2026-12-05T09:00:00+00:00", "status": status, "link_kind": "card", "link_id": "card:1",
            **summary}))]


def test_a_task_deleted_says_so():
    [(_, entry)] = timeline_entries(task(TaskDeleted, deleted=True), "ev-5", AT)
    assert (entry.kind, entry.summary["status"]) == ("task.deleted", "deleted")


def test_a_task_about_nobody_is_on_no_timeline():
    assert timeline_entries(task(TaskCreated, contact_id=None), "ev-6", AT) == []


@pytest.mark.parametrize("event", [
    card(CardEdited), card(CardRepositioned), card(CardContactsRelinked), card(CardPersonalDataErased),
    task(TaskUpdated), task(TaskPersonalDataErased)], ids=lambda event: type(event).__name__)
def test_edits_new_places_relinks_and_erasures_make_no_entry(event):
    assert timeline_entries(event, "ev-7", AT) == []


def test_no_entry_holds_what_a_user_typed():
    events = [card(CardCreated), card(CardLost, status="lost"), card(CardMoved, from_stage_id="stage:1"),
              task(TaskCreated), task(TaskCompleted, status="done")]
    made = [entry for event in events for _, entry in timeline_entries(event, "ev-8", AT)]
    assert made and not any(text in str(entry.summary) for entry in made for text in TYPED)
    assert {entry.kind for entry in made} <= set(KINDS)


def test_the_consumer_decodes_every_event_that_makes_an_entry():
    events = [card(CardCreated), card(CardMoved, from_stage_id="stage:1"), card(CardWon, status="won"),
              card(CardLost, status="lost"), card(CardArchived, status="archived"), task(TaskCreated),
              task(TaskRescheduled), task(TaskCompleted, status="done"), task(TaskReopened), task(TaskDeleted),
              task(TaskReminderDue)]
    assert all(timeline_entries(event, "ev-9", AT) for event in events)
    assert set(ENTRY_EVENTS) == {type(event) for event in events}
    assert sorted(KINDS) == sorted({entry.kind for event in events for _, entry in timeline_entries(event, "e", AT)})
