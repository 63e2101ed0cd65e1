"""The read model of reminders to fire (`task_reminders`): one document per (task, reminder, instant), with an
`_id` made of the three, so a reminder rescheduled to another instant is another document.

A task's event writes a document for each reminder still to fire and drops those of its reminders no longer
scheduled (rescheduled, done, deleted) unless they fired: a fired reminder's document stays until the scheduler
marks it handled (its e-mail queued), so a scheduler stopped between the two finishes the job when it returns.
"""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.envelope import EventEnvelope

from workflows.adapters.tasks_projection import TaskStateProjection
from workflows.domain.task_events import TaskState, reminder_key
from workflows.domain.tasks import Task
from workflows.service_layer.ports import DueReminder, DueReminders


def reminder_doc_id(task_id: str, before: str, at: str) -> str:
    return f"{task_id}|{reminder_key(before, at)}"


class TaskRemindersProjection(TaskStateProjection):

    def ensure_indexes(self) -> None:
        self.collection.create_index([("handled", ASCENDING), ("remind_at", ASCENDING)], name="due_reminders")
        self.collection.create_index([("task_id", ASCENDING)], name="task_reminders")

    def project(self, envelope: EventEnvelope, state: TaskState, rebuilding: bool) -> bool:
        version, task_id = envelope.aggregate_version, envelope.aggregate_id
        task = Task.from_history(task_id, envelope.account_id, [state])
        pending = task.pending_reminders()
        kept = {reminder_doc_id(task_id, r["before"], r["at"]) for r in pending}
        kept |= {f"{task_id}|{key}" for key in state.fired}
        changed = False
        for reminder in pending:
            doc_id = reminder_doc_id(task_id, reminder["before"], reminder["at"])
            try:
                result = self.collection.update_one(
                    {"_id": doc_id, "version": {"$lt": version + (1 if rebuilding else 0)}},
                    {"$set": {"task_id": task_id, "account_id": envelope.account_id, "before": reminder["before"],
                              "remind_at": reminder["at"], "version": version},
                     "$setOnInsert": {"handled": False}}, upsert=True)
                changed |= bool(result.upserted_id or result.modified_count)
            except DuplicateKeyError:  # it reflects this version or a later one already
                pass
        dropped = self.collection.delete_many({"task_id": task_id, "version": {"$lt": version},
                                               "handled": False, "_id": {"$nin": sorted(kept)}})
        return changed or bool(dropped.deleted_count)


class MongoDueReminders(DueReminders):
    def __init__(self, reminders: Collection) -> None:
        self._reminders = reminders

    def due(self, now: str, limit: int) -> list[DueReminder]:
        found = self._reminders.find({"handled": False, "remind_at": {"$lte": now}, "$or": [
            {"retry_at": {"$exists": False}}, {"retry_at": {"$lte": now}}]}).sort(
            [("remind_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [DueReminder(doc["_id"], doc["account_id"], doc["task_id"], doc["before"], doc["remind_at"],
                            doc.get("failures", 0)) for doc in found]

    def mark_handled(self, reminder_id: str) -> None:
        self._reminders.update_one({"_id": reminder_id}, {"$set": {"handled": True}})

    def put_off(self, reminder_id: str, until: str) -> None:
        self._reminders.update_one({"_id": reminder_id}, {"$set": {"retry_at": until}, "$inc": {"failures": 1}})
