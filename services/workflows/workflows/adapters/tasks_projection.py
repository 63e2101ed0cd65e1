"""The read model of tasks (`tasks`): one document per task, its whole state (title and notes opened) at its
version; a deleted task stays, marked, so that a late event never brings it back.

An event sealed under a shredded key is read with its title and notes blank, as cards are.
"""
from __future__ import annotations

from dataclasses import asdict

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import SubjectErased
from crm_platform.projections import Projection, versioned_upsert

from workflows.domain.task_events import TaskState
from workflows.domain.tasks import Task
from workflows.service_layer.ports import TasksIndex


def task_state(codec: EventCodec, envelope: EventEnvelope) -> TaskState:
    """The task's state an event carries; its title and notes blank once their key was shredded."""
    try:
        event = codec.from_envelope(envelope)
    except SubjectErased:
        clear = {name: envelope.payload.get(name) for name in TaskState.__dataclass_fields__}
        return TaskState(**{**clear, "task_id": envelope.aggregate_id, "account_id": envelope.account_id,
                            "title": "", "notes": ""})
    return TaskState(**{name: getattr(event, name) for name in TaskState.__dataclass_fields__})


class TaskStateProjection(Projection):
    """A read model of tasks, fed each task's state (its title and notes blank once erased)."""

    aggregate_type = Task.aggregate_type

    def event_of(self, envelope: EventEnvelope) -> TaskState:
        return task_state(self.codec, envelope)


class TasksProjection(TaskStateProjection):

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("due_at", ASCENDING)], name="account_tasks")
        self.collection.create_index([("account_id", ASCENDING), ("contact_id", ASCENDING)], name="contact_tasks")
        self.collection.create_index([("account_id", ASCENDING), ("card_id", ASCENDING)], name="card_tasks")

    def project(self, envelope: EventEnvelope, state: TaskState, rebuilding: bool) -> bool:
        fields = asdict(state)
        fields.pop("task_id")
        fields["card_id"] = state.link_id if state.link_kind == "card" else None  # one index finds a card's tasks
        return versioned_upsert(self.collection, envelope.aggregate_id, envelope.aggregate_version, fields,
                                replace_same_version=rebuilding)


class MongoTasksIndex(TasksIndex):
    def __init__(self, tasks: Collection) -> None:
        self._tasks = tasks

    def of_contact(self, account_id: str, contact_id: str) -> list[str]:
        found = self._tasks.find({"account_id": account_id, "contact_id": contact_id}, {"_id": 1})
        return [doc["_id"] for doc in found]
