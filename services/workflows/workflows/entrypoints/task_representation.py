"""What the API shows of tasks and the workflows settings, from an aggregate or a read-model document."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from workflows.domain.task_events import TaskState
from workflows.domain.tasks import OPEN, Task
from workflows.domain.workflow_settings import WorkflowSettings

SHOWN = ("title", "notes", "due_at", "time_zone", "assignee", "reminders", "status", "created_at", "completed_at")


def settings_view(settings: WorkflowSettings) -> dict:
    return {"revision": settings.revision, "time_zone": settings.time_zone,
            "notification_email": settings.notification_email}


def task_view(task: Task) -> dict:
    return _view(task.id, task.revision, {name: getattr(task.state, name)
                                          for name in TaskState.__dataclass_fields__})


def task_view_of_document(doc: dict) -> dict:
    return _view(doc["_id"], doc["version"], doc)


def _view(task_id: str, revision: int, fields: dict) -> dict:
    zone = fields["time_zone"] or fields["reminder_time_zone"]
    due = datetime.fromisoformat(fields["due_at"])
    link = {f"{kind}_id": fields["link_id"] if fields["link_kind"] == kind else None
            for kind in ("contact", "card", "invoice", "quote")}
    return {"id": task_id, "revision": revision, **{name: fields.get(name) for name in SHOWN},
            "reminders": [{"before": r["before"], "at": r["at"]} for r in fields["reminders"]],
            "due_at_local": due.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds"),
            "shown_in_time_zone": zone, **link, "about_contact_id": fields["contact_id"],
            "overdue": fields["status"] == OPEN and due < datetime.now(timezone.utc)}
