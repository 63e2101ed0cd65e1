"""/v1/tasks: tasks with reminders; /v1/workflow-settings: the account's time zone and notification address.
Views load, send a command, dump."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, request, url_for

from crm_platform.openapi import operation
from crm_platform.revisions import based_on, etag
from crm_platform.web import account_id, current_container, json_body

from workflows import views
from workflows.domain.task_commands import (ChangeWorkflowSettings, CompleteTask, CreateTask, DeleteTask, ReopenTask,
                                            RescheduleTask, UpdateTask)
from workflows.domain.tasks import KEEP
from workflows.entrypoints import task_schemas as schemas
from workflows.entrypoints.task_representation import settings_view, task_view, task_view_of_document
from workflows.service_layer.task_handlers import account_settings

bp = Blueprint("tasks", __name__, url_prefix="/v1/tasks")
settings_bp = Blueprint("workflow_settings", __name__, url_prefix="/v1/workflow-settings")
TAGS, SETTINGS_TAGS = ["tasks"], ["workflow settings"]


@settings_bp.get("")
@operation("The account's workflows settings (the defaults until changed)", tags=SETTINGS_TAGS,
           responses={200: schemas.WorkflowSettingsSchema}, operation_id="getWorkflowSettings")
def get_settings():
    settings = account_settings(account_id(), current_container().unit_of_work())
    return settings_view(settings), 200, etag(settings.revision)


@settings_bp.put("")
@operation("Set the account's time zone and the address task reminders go to (revision: body or If-Match)",
           tags=SETTINGS_TAGS, request_schema=schemas.WorkflowSettingsPutSchema,
           responses={200: schemas.WorkflowSettingsSchema}, problems=(409, 415, 422))
def put_settings():
    data = schemas.WorkflowSettingsPutSchema().load(json_body())
    revision = based_on(data, required=False)
    settings = current_container().bus.handle(ChangeWorkflowSettings(
        account_id(), data["time_zone"], data["notification_email"], revision))
    return settings_view(settings), 200, {**etag(settings.revision), "Content-Location": "/v1/workflow-settings"}


@bp.post("")
@operation("Create a task (due_at with its offset; reminders before it)", tags=TAGS,
           request_schema=schemas.TaskCreateSchema, responses={201: schemas.TaskSchema}, problems=(409, 415, 422))
def create_task():
    data = schemas.TaskCreateSchema().load(json_body())
    kind, link_id = _link(data)
    task = current_container().bus.handle(CreateTask(
        account_id(), data["title"], data["due_at"], notes=data.get("notes", ""), time_zone=data.get("time_zone"),
        link_kind=kind, link_id=link_id, assignee=data.get("assignee"),
        reminders=tuple(r["before"] for r in data.get("reminders", ()))))
    return _answer(task, 201)


@bp.get("")
@operation("The account's tasks by due time, filtered", tags=TAGS, query_schema=schemas.TaskQuerySchema,
           responses={200: schemas.TaskPageSchema}, problems=(422,))
def list_tasks():
    query = schemas.TaskQuerySchema().load(request.args.to_dict())
    docs, next_cursor = views.tasks_page(current_container().tasks_projection.collection, account_id(), query,
                                         datetime.now(timezone.utc), query["limit"], query["cursor"])
    return {"items": [task_view_of_document(doc) for doc in docs], "next_cursor": next_cursor}


@bp.get("/<task_id>")
@operation("A task", tags=TAGS, responses={200: schemas.TaskSchema}, problems=(404,))
def get_task(task_id: str):
    with current_container().unit_of_work() as uow:
        task = uow.tasks.get(account_id(), task_id)
    return task_view(task), 200, etag(task.revision)


@bp.patch("/<task_id>")
@operation("Change a task's title, notes, link, assignee, time zone or reminders (revision: body or If-Match)",
           tags=TAGS, request_schema=schemas.TaskPatchSchema, responses={200: schemas.TaskSchema},
           problems=(404, 409, 415, 422))
def update_task(task_id: str):
    data = schemas.TaskPatchSchema().load(json_body())
    revision = based_on(data, required=True)
    if any(name in data for name in schemas.LINK_FIELDS):
        data["link_kind"], data["link_id"] = _link(data)
    for name in schemas.LINK_FIELDS:
        data.pop(name, None)
    if "reminders" in data:
        data["reminders"] = [r["before"] for r in data["reminders"]]
    return _answer(current_container().bus.handle(UpdateTask(account_id(), task_id, revision, data)))


@bp.delete("/<task_id>")
@operation("Delete a task, its reminders with it (If-Match: the revision read; 409 when stale)", tags=TAGS,
           responses={204: None}, problems=(404, 409, 422))
def delete_task(task_id: str):
    current_container().bus.handle(DeleteTask(account_id(), task_id, based_on({}, required=False)))
    return "", 204


@bp.post("/<task_id>/complete")
@operation("Mark a task done (its reminders stop)", tags=TAGS, request_schema=schemas.TaskActionSchema,
           responses={200: schemas.TaskSchema}, problems=(404, 409, 415, 422))
def complete_task(task_id: str):
    data = schemas.TaskActionSchema().load(_optional_body())
    return _answer(current_container().bus.handle(CompleteTask(account_id(), task_id, based_on(data, required=False))))


@bp.post("/<task_id>/reopen")
@operation("Open a done task again (reminders whose time passed do not fire)", tags=TAGS,
           request_schema=schemas.TaskActionSchema, responses={200: schemas.TaskSchema}, problems=(404, 409, 415, 422))
def reopen_task(task_id: str):
    data = schemas.TaskActionSchema().load(_optional_body())
    return _answer(current_container().bus.handle(ReopenTask(account_id(), task_id, based_on(data, required=False))))


@bp.post("/<task_id>/reschedule")
@operation("Move a task's due time (its reminders get new times; revision: body or If-Match)", tags=TAGS,
           request_schema=schemas.TaskRescheduleSchema, responses={200: schemas.TaskSchema},
           problems=(404, 409, 415, 422))
def reschedule_task(task_id: str):
    data = schemas.TaskRescheduleSchema().load(json_body())
    revision = based_on(data, required=True)
    task = current_container().bus.handle(RescheduleTask(account_id(), task_id, revision, data["due_at"],
                                                         data.get("time_zone", KEEP)))
    return _answer(task)


def _link(data: dict) -> tuple[str | None, str | None]:
    """The one link the body names (the schema refused more), as (kind, id); (None, None) for none."""
    for name in schemas.LINK_FIELDS:
        if data.get(name) is not None:
            return name.removesuffix("_id"), data[name]
    return None, None


def _optional_body() -> dict:
    """The JSON body, or nothing: these actions need no field."""
    return json_body() if request.content_length or request.is_json else {}


def _answer(task, status: int = 200) -> tuple:
    where = url_for("tasks.get_task", task_id=task.id)
    place = {"Location": where} if status == 201 else {"Content-Location": where}
    return task_view(task), status, {**place, **etag(task.revision)}
