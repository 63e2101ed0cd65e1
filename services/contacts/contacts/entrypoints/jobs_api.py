"""Jobs with progress (`/v1/jobs/{id}`) and the bulk label job that creates them."""
from __future__ import annotations

from flask import Blueprint, url_for
from marshmallow import Schema, fields, validate

from crm_platform.http_schemas import StrictSchema
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts.domain import commands
from contacts.service_layer import label_handlers

bp = Blueprint("jobs", __name__)
TAGS = ["jobs"]
MAX_BULK = 10_000


class BulkLabelSchema(StrictSchema):
    action = fields.String(load_default="assign", validate=validate.OneOf(("assign", "unassign")))
    contact_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                              validate=validate.Length(min=1, max=MAX_BULK))


class JobErrorSchema(Schema):
    item = fields.Integer(metadata={"description": "position in the job's input list"})
    error = fields.String()


class JobSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued, running, done or cancelled"})
    total = fields.Integer(required=True)
    processed = fields.Integer(required=True)
    succeeded = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    errors = fields.List(fields.Nested(JobErrorSchema), metadata={"description": "the first 100 failed items"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "what the job did, by kind: for imports rows, created, updated, skipped and failed"})
    cancel_requested = fields.Boolean()
    created_at = fields.String()
    updated_at = fields.String()


def job_view(job: dict) -> dict:
    return {
        "id": job["_id"], "kind": job["kind"], "status": job["status"],
        **{k: job[k] for k in ("total", "processed", "succeeded", "failed", "errors", "cancel_requested")},
        "counts": dict(job.get("counts") or {}),
        "created_at": job["created_at"].isoformat(timespec="milliseconds"),
        "updated_at": job["updated_at"].isoformat(timespec="milliseconds"),
    }


@bp.post("/v1/labels/<key>/assignments")
@operation("Give (or take off) a label to many contacts, as a job with progress", tags=["labels", *TAGS],
           request_schema=BulkLabelSchema, responses={202: JobSchema}, problems=(404, 415, 422))
def bulk_label(key: str):
    data = BulkLabelSchema().load(json_body())
    container = current_container()
    if data["action"] == "assign":
        label_handlers.require_live_label(commands.AssignLabel(account_id(), "", key), container.unit_of_work())
    job = container.jobs.submit(account_id(), label_handlers.BULK_LABEL_JOB, data["contact_ids"],
                                {"key": key, "action": data["action"]})
    return job_view(job), 202, {"Location": url_for("jobs.get_job", job_id=job["_id"])}


@bp.get("/v1/jobs/<job_id>")
@operation("A job's status and progress", tags=TAGS, responses={200: JobSchema}, problems=(404,))
def get_job(job_id: str):
    return job_view(current_container().jobs.get(account_id(), job_id))


@bp.post("/v1/jobs/<job_id>/cancel")
@operation("Ask a job to stop (it stops after the item in progress)", tags=TAGS, responses={200: JobSchema},
           problems=(404,))
def cancel_job(job_id: str):
    return job_view(current_container().jobs.request_cancel(account_id(), job_id))
