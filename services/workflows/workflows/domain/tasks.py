"""Tasks: something to do by a date-time, maybe about a contact, a card, an invoice or a quote, with reminders.

Every task event carries the task's whole state (`latest_event_is_state`). Its title
and notes are personal data: sealed under the key of the contact it is about (the
linked contact, or the linked card's main contact when it was linked) as card titles
are, so erasing that contact shreds them; a task about nobody known is sealed under a
key of its own. Reminders hold their firing instant, computed when the task is
created or rescheduled (domain/reminders.py), and the reminders that fired: firing
the same one twice is refused here, whoever asks.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from crm_platform.aggregates import Aggregate
from crm_platform.errors import InvalidInput, NotFound, StaleRevision

from workflows.domain.reminders import schedule
from workflows.domain.task_events import (TaskCompleted, TaskCreated, TaskDeleted, TaskPersonalDataErased,
                                          TaskReminderDue, TaskReopened, TaskRescheduled, TaskState, TaskUpdated,
                                          reminder_key)

OPEN, DONE = "open", "done"
TASK_STATUSES = (OPEN, DONE)
LINK_KINDS = ("contact", "card", "invoice", "quote")
MAX_TITLE, MAX_NOTES, MAX_ASSIGNEE = 200, 10_000, 200
LATE_AFTER = timedelta(seconds=60)
EARLIEST_DUE, LATEST_DUE = 1900, 9000
FIRED, ALREADY_FIRED, NOT_SCHEDULED = "fired", "already fired", "not scheduled"
KEEP = object()  # reschedule: the task keeps its own time zone (or the account's)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TaskNotFound(NotFound):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id} does not exist in this account", task_id=task_id)


def _text(value: str, field: str, limit: int, required: bool = False) -> str:
    value = " ".join(value.split()) if required else value.strip()  # a title is one line (an e-mail's subject)
    if required and not value:
        raise InvalidInput(f"a task needs a {field}", errors={field: ["must not be blank"]})
    if required and _CONTROL.search(value):  # the mail outbox would refuse it as a subject: no reminder e-mail
        raise InvalidInput(f"{field} holds a control character", errors={field: ["no control characters"]})
    if len(value) > limit:
        raise InvalidInput(f"{field} is too long", errors={field: [f"at most {limit} characters"]})
    return value


def _utc(due_at: datetime) -> str:
    if due_at.tzinfo is None:
        raise InvalidInput("due_at needs its offset", errors={"due_at": ["a date-time with an offset or Z"]})
    if not EARLIEST_DUE <= due_at.year <= LATEST_DUE:  # and a reminder a year before still a date
        raise InvalidInput("due_at is out of range", errors={"due_at": [f"between {EARLIEST_DUE} and {LATEST_DUE}"]})
    return due_at.astimezone(timezone.utc).isoformat(timespec="seconds")


class Task(Aggregate):
    aggregate_type = "Task"
    event_classes = (TaskCreated, TaskUpdated, TaskRescheduled, TaskCompleted, TaskReopened, TaskDeleted,
                     TaskReminderDue, TaskPersonalDataErased)
    not_found_error = TaskNotFound
    latest_event_is_state = True

    def __init__(self, task_id: str, account_id: str) -> None:
        super().__init__(task_id, account_id)
        self.state: TaskState | None = None

    def __getattr__(self, name: str):
        state = self.__dict__.get("state")  # the task's fields are its latest state's
        if state is not None and name in TaskState.__dataclass_fields__:
            return getattr(state, name)
        raise AttributeError(name)

    @classmethod
    def create(cls, account_id: str, now: str, account_zone: str, *, title: str, due_at: datetime, notes: str = "",
               time_zone: str | None = None, link_kind: str | None = None, link_id: str | None = None,
               contact_id: str | None = None, assignee: str | None = None, reminders: tuple[str, ...] = ()) -> "Task":
        task = cls(f"task:{uuid.uuid4()}", account_id)
        zone = time_zone or account_zone
        due = _utc(due_at)
        task._record(TaskCreated(
            task.id, account_id, _text(title, "title", MAX_TITLE, True), _text(notes, "notes", MAX_NOTES), due,
            time_zone, zone, *_link(link_kind, link_id), contact_id, _assignee(assignee),
            schedule(due, zone, list(reminders)), now, [], OPEN, now))
        return task

    @property
    def gone(self) -> bool:
        return self.state is not None and self.state.deleted

    def check_revision(self, revision: int | None) -> None:
        if revision is not None and revision != self.revision:
            raise StaleRevision(f"task {self.id} is at revision {self.revision}, the change was based on {revision}",
                                task_id=self.id, current_revision=self.revision)

    def update(self, changes: dict, account_zone: str, now: str) -> None:
        """Change title, notes, link (with the contact it is about), assignee, time zone or reminders."""
        fields = {}
        if "title" in changes:
            fields["title"] = _text(changes["title"], "title", MAX_TITLE, True)
        if "notes" in changes:
            fields["notes"] = _text(changes["notes"], "notes", MAX_NOTES)
        if "assignee" in changes:
            fields["assignee"] = _assignee(changes["assignee"])
        if "link_kind" in changes:
            fields["link_kind"], fields["link_id"] = _link(changes["link_kind"], changes.get("link_id"))
            fields["contact_id"] = changes.get("contact_id")
        updated = replace(self.state, **fields)
        if "time_zone" in changes or "reminders" in changes:
            updated = self._rescheduled(updated, self.due_at, changes.get("time_zone", self.time_zone),
                                        changes.get("reminders", [r["before"] for r in self.reminders]),
                                        account_zone, now)
        if updated != self.state:
            self._record(TaskUpdated(**_fields(updated)))

    def reschedule(self, due_at: datetime, account_zone: str, now: str, time_zone=KEEP) -> None:
        """A new due time (and maybe time zone: None is the account's): its reminders get new instants, the old
        ones are dropped."""
        zone = self.time_zone if time_zone is KEEP else time_zone
        updated = self._rescheduled(self.state, _utc(due_at), zone, [r["before"] for r in self.reminders],
                                    account_zone, now)
        if updated != self.state:
            self._record(TaskRescheduled(**_fields(updated), previous_due_at=self.due_at))

    def complete(self, now: str) -> None:
        if self.status != DONE:
            self._record(TaskCompleted(**_fields(replace(self.state, status=DONE, completed_at=now))))

    def reopen(self, now: str) -> None:
        """Open again; reminders whose time passed meanwhile do not fire late."""
        if self.status != OPEN:
            self._record(TaskReopened(**_fields(replace(self.state, status=OPEN, completed_at=None,
                                                        reminders_after=now))))

    def delete(self) -> None:
        if not self.deleted:
            self._record(TaskDeleted(**_fields(replace(self.state, deleted=True))))

    def pending_reminders(self) -> list[dict]:
        """The reminders still to fire: none once the task is done or deleted."""
        if self.status != OPEN or self.deleted:
            return []
        return [r for r in self.reminders if r["at"] >= self.reminders_after
                and reminder_key(r["before"], r["at"]) not in self.fired]

    def fire(self, before: str, at: str, now: datetime) -> str:
        """Record that a reminder's time came: FIRED, ALREADY_FIRED (never twice), or NOT_SCHEDULED (rescheduled,
        done, deleted: a read model that lagged asked)."""
        key = reminder_key(before, at)
        if key in self.fired:
            return ALREADY_FIRED
        if not any((r["before"], r["at"]) == (before, at) for r in self.pending_reminders()):
            return NOT_SCHEDULED
        late = now - datetime.fromisoformat(at) > LATE_AFTER
        self._record(TaskReminderDue(**_fields(replace(self.state, fired=[*self.fired, key])), reminder=before,
                                     remind_at=at, fired_at=now.isoformat(timespec="seconds"), late=late))
        return FIRED

    def relink_contact(self, survivor_id: str | None) -> None:
        """Its contact was merged into `survivor_id`, or deleted (None: the link goes)."""
        linked = self.link_kind == "contact"
        kind, link_id = ("contact", survivor_id) if linked and survivor_id else (
            (None, None) if linked else (self.link_kind, self.link_id))
        updated = replace(self.state, link_kind=kind, link_id=link_id, contact_id=survivor_id)
        if updated != self.state:
            self._record(TaskUpdated(**_fields(updated)))

    def erase_personal_data(self) -> None:
        """Blank what the task says about its contact (before that contact's key is shredded)."""
        if (self.title, self.notes) != ("", ""):
            self._record(TaskPersonalDataErased(**_fields(replace(self.state, title="", notes=""))))

    def _rescheduled(self, state: TaskState, due_at: str, time_zone: str | None, befores: list[str],
                     account_zone: str, now: str) -> TaskState:
        zone = time_zone or account_zone
        reminders = schedule(due_at, zone, befores)
        if (due_at, time_zone, zone, reminders) == (state.due_at, state.time_zone, state.reminder_time_zone,
                                                    state.reminders):
            return state
        return replace(state, due_at=due_at, time_zone=time_zone, reminder_time_zone=zone, reminders=reminders,
                       reminders_after=now)

    def _apply(self, event: TaskState) -> None:
        self.state = TaskState(**_fields(event))
        self.deleted = event.deleted


def _fields(state: TaskState) -> dict:
    return {name: getattr(state, name) for name in TaskState.__dataclass_fields__}


def _link(kind: str | None, link_id: str | None) -> tuple[str | None, str | None]:
    if kind is None and link_id is None:
        return None, None
    if kind not in LINK_KINDS or not link_id:
        raise InvalidInput("a link names its kind and id", errors={"link": [f"kind one of {', '.join(LINK_KINDS)}, and an id"]})
    return kind, link_id


def _assignee(value: str | None) -> str | None:
    return (_text(value, "assignee", MAX_ASSIGNEE) or None) if value is not None else None
