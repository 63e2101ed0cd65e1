"""Task events: each carries the task's whole state after the change (`latest_event_is_state`).

Title and notes are sealed under the key of the contact the task is about (`contact_id`), as card titles are,
or under a key of the task's own when it is about nobody known.
"""
from __future__ import annotations

from dataclasses import dataclass

from crm_platform.aggregates import DomainEvent

from workflows.domain.cards import CARD_SUBJECT


def task_subject(contact_id: str | None, task_id: str) -> str:
    """The key sealing a task's title and notes: its contact's in workflows, else the task's own."""
    return CARD_SUBJECT.format(contact_id=contact_id) if contact_id else f"workflows-task:{task_id}"


def reminder_key(before: str, at: str) -> str:
    return f"{before}@{at}"


class TaskEvent(DomainEvent):
    aggregate_id_field = "task_id"
    personal_fields = ("title", "notes")

    def subject(self) -> str:
        return task_subject(self.contact_id, self.task_id)


@dataclass(frozen=True)
class TaskState(TaskEvent):
    task_id: str
    account_id: str
    title: str
    notes: str
    due_at: str  # UTC, ISO 8601 to the second
    time_zone: str | None  # the task's own, else None: the account's
    reminder_time_zone: str  # the zone its reminders' days were counted in when they were scheduled
    link_kind: str | None  # contact, card, invoice, quote
    link_id: str | None
    contact_id: str | None  # whom it is about: the linked contact, or the linked card's main contact
    assignee: str | None
    reminders: list  # [{"before": "P1D", "at": UTC instant}], in firing order
    reminders_after: str  # reminders before this instant (scheduled in the past) never fire
    fired: list  # reminder_key()s of the reminders that fired
    status: str
    created_at: str
    completed_at: str | None = None
    deleted: bool = False


@dataclass(frozen=True)
class TaskCreated(TaskState):
    pass


@dataclass(frozen=True)
class TaskUpdated(TaskState):
    """Its title, notes, link, assignee, time zone or reminders changed (or its contact, merged or deleted)."""


@dataclass(frozen=True)
class TaskRescheduled(TaskState):
    previous_due_at: str | None = None


@dataclass(frozen=True)
class TaskCompleted(TaskState):
    pass


@dataclass(frozen=True)
class TaskReopened(TaskState):
    pass


@dataclass(frozen=True)
class TaskDeleted(TaskState):
    pass


@dataclass(frozen=True)
class TaskReminderDue(TaskState):
    """One reminder's time came (`late`: it fired more than a minute after it, the scheduler having been down)."""

    reminder: str | None = None  # its offset, e.g. "P1D"
    remind_at: str | None = None
    fired_at: str | None = None
    late: bool = False


@dataclass(frozen=True)
class TaskPersonalDataErased(TaskState):
    """Its contact was erased: its title and notes are blank from now on."""
