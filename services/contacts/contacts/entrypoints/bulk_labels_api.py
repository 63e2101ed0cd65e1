"""The bulk label job (`POST /v1/labels/{key}/assignments`); clients follow it on crm_platform's jobs API."""
from __future__ import annotations

from flask import Blueprint, url_for
from marshmallow import fields, validate

from crm_platform.http_schemas import StrictSchema
from crm_platform.jobs_api import TAGS, JobSchema, job_view
from crm_platform.openapi import operation
from crm_platform.web import account_id, current_container, json_body

from contacts.service_layer import label_handlers

bp = Blueprint("bulk_labels", __name__)
MAX_BULK = 10_000


class BulkLabelSchema(StrictSchema):
    action = fields.String(load_default="assign", validate=validate.OneOf(("assign", "unassign")))
    contact_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                              validate=validate.Length(min=1, max=MAX_BULK))


@bp.post("/v1/labels/<key>/assignments")
@operation("Give (or take off) a label to many contacts, as a job with progress", tags=["labels", *TAGS],
           request_schema=BulkLabelSchema, responses={202: JobSchema}, problems=(404, 415, 422))
def bulk_label(key: str):
    data = BulkLabelSchema().load(json_body())
    container = current_container()
    if data["action"] == "assign":
        label_handlers.require_live_label(account_id(), key, container.unit_of_work())
    job = container.jobs.submit(account_id(), label_handlers.BULK_LABEL_JOB, data["contact_ids"],
                                {"key": key, "action": data["action"]})
    return job_view(job), 202, {"Location": url_for("jobs.get_job", job_id=job["_id"])}
