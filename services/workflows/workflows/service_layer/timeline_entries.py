"""Workflows' entries of a contact's timeline (issue 14): its cards' lives and its tasks, from workflows' own events.

Pure: an event, its id and time in, `(contact id, entry)` pairs out (crm_platform.timeline_follower.EntriesOf).
Workflows keeps no other history of card moves: these entries are it.

A card's entry goes on the timeline of each contact it links: its main contact's under the event's id, each other
contact's under `<event id>:<contact id>` (entry ids are unique). A task's goes on its contact's, if it is about
one. Summaries hold ids, stage ids, states, values, currencies and times only: never a card's or task's title,
description, notes or reason lost (typed by users, and sealed in the events) nor a task's assignee; the client reads
the card or task by the subject's id. The kinds are listed in docs/api.md ("A contact's timeline: workflows'
entries").

Edits (CardEdited, TaskUpdated: the events carry the whole state, not what changed), a card given a new place in
its stage, contacts relinked after a merge or deletion, and personal data erased make no entry.
"""
from __future__ import annotations

from datetime import datetime

from crm_platform.aggregates import DomainEvent
from crm_platform.timeline import TimelineEntry

from workflows.domain.cards import CardArchived, CardCreated, CardLost, CardMoved, CardState, CardWon
from workflows.domain.task_events import (TaskCompleted, TaskCreated, TaskDeleted, TaskReminderDue, TaskReopened,
                                          TaskRescheduled, TaskState)

MAIN_CONTACT, OTHER_CONTACT = "main_contact", "other_contact"

CARD_KINDS = {CardCreated: "card.created", CardMoved: "card.moved", CardWon: "card.won", CardLost: "card.lost",
              CardArchived: "card.archived"}
TASK_KINDS = {TaskCreated: "task.created", TaskRescheduled: "task.rescheduled", TaskCompleted: "task.completed",
              TaskReopened: "task.reopened", TaskDeleted: "task.deleted", TaskReminderDue: "task.reminder_due"}
ENTRY_EVENTS = (*CARD_KINDS, *TASK_KINDS)  # the events that make entries: the timeline consumer decodes these only
KINDS = (*CARD_KINDS.values(), *TASK_KINDS.values())


def _card_summary(card: CardState) -> dict:
    stage = ({"from_stage_id": card.from_stage_id, "to_stage_id": card.stage_id} if isinstance(card, CardMoved)
             else {"stage_id": card.stage_id})
    summary = {"board_id": card.board_id, **stage, "status": card.status}
    if card.value is not None:
        summary.update(value=card.value, currency=card.currency)
    return summary


def _card_entries(card: CardState, event_id: str, at: datetime) -> list[tuple[str, TimelineEntry]]:
    if isinstance(card, CardMoved) and card.from_stage_id == card.stage_id:
        return []  # a new place in the same stage: not a move between stages
    kind, summary = CARD_KINDS[type(card)], _card_summary(card)
    entries = [(card.contact_id, TimelineEntry(event_id, at, kind, "card", card.card_id,
                                               {**summary, "role": MAIN_CONTACT}))]
    for contact_id in card.other_contact_ids:
        entries.append((contact_id, TimelineEntry(f"{event_id}:{contact_id}", at, kind, "card", card.card_id,
                                                  {**summary, "role": OTHER_CONTACT})))
    return entries


def _task_summary(task: TaskState) -> dict:
    summary = {"due_at": task.due_at, "status": "deleted" if task.deleted else task.status}
    if task.link_kind is not None:
        summary.update(link_kind=task.link_kind, link_id=task.link_id)
    if isinstance(task, TaskCompleted):
        summary["completed_at"] = task.completed_at
    if isinstance(task, TaskRescheduled):
        summary["previous_due_at"] = task.previous_due_at
    if isinstance(task, TaskReminderDue):
        summary.update(reminder=task.reminder, remind_at=task.remind_at, late=task.late)
    return summary


def timeline_entries(event: DomainEvent, event_id: str, at: datetime) -> list[tuple[str, TimelineEntry]]:
    """The entries one of workflows' events makes on its contacts' timelines, if any."""
    if type(event) in CARD_KINDS:
        return _card_entries(event, event_id, at)
    if type(event) in TASK_KINDS and event.contact_id:
        return [(event.contact_id, TimelineEntry(event_id, at, TASK_KINDS[type(event)], "task", event.task_id,
                                                 _task_summary(event)))]
    return []
