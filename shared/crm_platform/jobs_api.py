"""The HTTP side of jobs that every service with a JobStore serves: a job's progress and its cancellation.

A service submits jobs from its own endpoints (answering 202 with
`job_view(job)` and a `Location` of `url_for("jobs.get_job", job_id=...)`)
and registers `jobs_blueprint()` for clients to follow them.
"""
from __future__ import annotations

from flask import Blueprint
from marshmallow import Schema, fields, validate

from crm_platform.jobs import JobStore

STATUSES = ("queued", "running", "done", "cancelled")  # the statuses JobStore gives a job
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container

TAGS = ["jobs"]


class JobErrorSchema(Schema):
    item = fields.Integer(metadata={"description": "position in the job's input list"})
    error = fields.String()


class JobSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES),
                           metadata={"description": "queued, running, done or cancelled"})
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
    """A stored job as the API shows it (JobSchema): no items, times in ISO 8601."""
    return {
        "id": job["_id"], "kind": job["kind"], "status": job["status"],
        **{k: job[k] for k in ("total", "processed", "succeeded", "failed", "errors", "cancel_requested")},
        "counts": dict(job.get("counts") or {}),
        "created_at": job["created_at"].isoformat(timespec="milliseconds"),
        "updated_at": job["updated_at"].isoformat(timespec="milliseconds"),
    }


def jobs_blueprint() -> Blueprint:
    """`GET /v1/jobs/{id}` and `POST /v1/jobs/{id}/cancel` on the JobStore at `current_container().jobs`."""
    bp = Blueprint("jobs", __name__)

    @bp.get("/v1/jobs/<job_id>")
    @operation("A job's status and progress", tags=TAGS, responses={200: JobSchema}, problems=(404,))
    def get_job(job_id: str):
        return job_view(_job_store().get(account_id(), job_id))

    @bp.post("/v1/jobs/<job_id>/cancel")
    @operation("Ask a job to stop (it stops after the item in progress)", tags=TAGS, responses={200: JobSchema},
               problems=(404,))
    def cancel_job(job_id: str):
        return job_view(_job_store().request_cancel(account_id(), job_id))

    return bp


def _job_store() -> JobStore:
    return current_container().jobs
