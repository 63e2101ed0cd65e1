"""The one scheduler of task reminders for the whole system: it fires what is due, each reminder once.

The worker runs it every second under the lease `task-reminders` (one holder among every worker). For each
reminder the read model shows due, the task records TaskReminderDue (the aggregate refuses a reminder that
fired already or is no longer scheduled: a read model that lags, two schedulers in a lease hand-over), then the
account's notification e-mail is queued, sealed under the task's key, with an id made of (task, reminder,
instant), so a scheduler stopped between the two queues it when it comes back, and never twice. Then the
reminder is marked handled. A reminder whose time passed while no scheduler ran fires when one returns, marked
late. A reminder that fails (bad data, a bug, an outage) is put off, a little longer each time, and given up
after MAX_FIRE_FAILURES: a batch of them never hides the reminders due after them.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from crm_platform.errors import InvalidInput
from crm_platform.personal_data import SubjectErased
from crm_platform.unit_of_work import retried

from workflows.domain.reminders import utc_text
from workflows.domain.task_events import task_subject
from workflows.domain.tasks import NOT_SCHEDULED, Task
from workflows.domain.workflow_settings import settings_id
from workflows.service_layer.ports import DueReminder, DueReminders, ReminderMailer
from workflows.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LEASE_NAME = "task-reminders"
FIRE_ATTEMPTS = 3
MAX_FIRE_FAILURES = 6
RETRY_AFTER = timedelta(minutes=1)  # doubled at each failure: retried after 1, 2, 4, 8 and 16 minutes


def reminder_mail_id(task_id: str, before: str, at: str) -> str:
    """The e-mail's idempotency key: one per (task, reminder, instant)."""
    return "task-reminder:" + hashlib.sha256(f"{task_id}|{before}|{at}".encode()).hexdigest()[:40]


class ReminderScheduler:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork], reminders: DueReminders, mailer: ReminderMailer,
                 lease, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), batch: int = 50) -> None:
        self._unit_of_work, self._reminders, self._mailer = unit_of_work, reminders, mailer
        self._lease, self._clock, self._batch = lease, clock, batch

    def fire_due(self) -> int:
        """Fire the reminders due now, if this process holds the lease; how many it handled."""
        if not self._lease.acquire_or_renew():
            return 0
        now = self._clock()
        due = self._reminders.due(utc_text(now), self._batch)
        handled = 0
        addresses: dict[str, str | None] = {}  # account -> notification address, read once per round (issue 12)
        for reminder in due:
            try:
                self._fire(reminder, now, addresses)
            except InvalidInput as refused:  # the outbox refused the address: no retry will change that
                log.warning("task reminder e-mail refused", extra={
                    "task_id": reminder.task_id, "account_id": reminder.account_id, "fields": sorted(refused.errors)})
            except Exception:  # bad data, a bug, an outage: put off, so that it never blocks the rest
                log.exception("task reminder failed", extra={"task_id": reminder.task_id,
                                                             "failures": reminder.failures + 1})
                self._put_off(reminder, now)
                continue
            self._reminders.mark_handled(reminder.id)
            handled += 1
        return handled

    def _put_off(self, reminder: DueReminder, now: datetime) -> None:
        """Not due again for a while; given up (marked handled) once it failed MAX_FIRE_FAILURES times."""
        try:
            if reminder.failures + 1 >= MAX_FIRE_FAILURES:
                self._reminders.mark_handled(reminder.id)
                log.error("task reminder given up", extra={"task_id": reminder.task_id,
                                                            "account_id": reminder.account_id})
            else:
                self._reminders.put_off(reminder.id, utc_text(now + RETRY_AFTER * 2 ** reminder.failures))
        except Exception:  # the database is down too: the next round finds it due again
            log.exception("task reminder could not be put off", extra={"task_id": reminder.task_id})

    def _fire(self, due: DueReminder, now: datetime, addresses: dict[str, str | None]) -> None:
        """Record the reminder fired and queue its e-mail to the account's address (read once a round into
        `addresses`: a round holds up to `batch` reminders of one account, each read a statement on FerretDB)."""
        try:
            task = retried(lambda: self._record_fired(due, now), FIRE_ATTEMPTS)  # written meanwhile: decide again
            if task is None:
                return
            if due.account_id not in addresses:
                addresses[due.account_id] = self._notification_address(due.account_id)
        except SubjectErased:  # its contact erased meanwhile
            return
        to = addresses[due.account_id]
        if to:  # fired now or before (then queued again: the same id changes nothing)
            self._mailer.queue(reminder_mail_id(task.id, due.before, due.remind_at), due.account_id,
                               task_subject(task.contact_id, task.id), to, *_mail_text(task, due),
                               {"task_id": task.id, "reminder": due.before, "remind_at": due.remind_at},
                               about_contact_id=task.contact_id)

    def _record_fired(self, due: DueReminder, now: datetime) -> Task | None:
        """The task that fired (now or before); None when nothing is left to remind of (its key shredded, or the
        reminder no longer scheduled)."""
        with self._unit_of_work() as uow:
            task = uow.tasks.find(due.account_id, due.task_id)
            if task is None or task.state is None or task.fire(due.before, due.remind_at, now) == NOT_SCHEDULED:
                return None
            uow.commit()
            return task

    def _notification_address(self, account_id: str) -> str | None:
        with self._unit_of_work() as uow:
            return uow.settings.find_or_blank(account_id, settings_id(account_id)).notification_email


def _mail_text(task: Task, due: DueReminder) -> tuple[str, str]:
    local = datetime.fromisoformat(task.due_at).astimezone(ZoneInfo(task.reminder_time_zone))
    when = local.strftime("%d/%m/%Y %H:%M") + f" ({task.reminder_time_zone})"
    lines = [f"Rappel : {task.title}", f"Échéance : {when}"]
    if task.assignee:
        lines.append(f"Assignée à : {task.assignee}")
    if task.link_kind:
        lines.append(f"Lien : {task.link_kind} {task.link_id}")
    if task.notes:
        lines += ["", task.notes]
    return f"Rappel : {task.title} — {when}", "\n".join(lines) + "\n"
