"""Commands about tasks and the account's workflows settings (imperative): what a caller asks for."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ChangeWorkflowSettings:
    account_id: str
    time_zone: str
    notification_email: str | None
    revision: int | None = None


@dataclass(frozen=True)
class CreateTask:
    account_id: str
    title: str
    due_at: datetime  # with its offset
    notes: str = ""
    time_zone: str | None = None
    link_kind: str | None = None  # contact, card, invoice, quote
    link_id: str | None = None
    assignee: str | None = None
    reminders: tuple[str, ...] = ()  # ISO 8601 durations before due_at


@dataclass(frozen=True)
class UpdateTask:
    account_id: str
    task_id: str
    revision: int | None
    changes: dict = field(default_factory=dict)  # title, notes, assignee, time_zone, reminders, link_kind + link_id


@dataclass(frozen=True)
class RescheduleTask:
    account_id: str
    task_id: str
    revision: int | None
    due_at: datetime
    time_zone: object = None  # a zone name, None (the account's), or tasks.KEEP


@dataclass(frozen=True)
class CompleteTask:
    account_id: str
    task_id: str
    revision: int | None = None


@dataclass(frozen=True)
class ReopenTask:
    account_id: str
    task_id: str
    revision: int | None = None


@dataclass(frozen=True)
class DeleteTask:
    account_id: str
    task_id: str
    revision: int | None = None
