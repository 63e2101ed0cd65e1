"""Contact imports (`/v1/imports`): upload and preview, start as a job, follow it, fetch the failed rows."""
from __future__ import annotations

from flask import Blueprint, Response, request, url_for
from marshmallow import Schema, fields, validate

from crm_platform.file_transfer import uploaded_file
from crm_platform.http_schemas import StrictSchema
from crm_platform.jobs_api import JobSchema, job_view
from crm_platform.openapi import TEXT_FILE, operation
from crm_platform.web import account_id, current_container, json_body

from contacts import views
from contacts.domain import commands
from contacts.importing import ERROR_COLUMN, ROW_COLUMN, CsvStyle, failed_rows_csv, template_csv
from contacts.service_layer import import_handlers, import_retention
from contacts.service_layer.bulk_create import ON_MATCH

bp = Blueprint("imports", __name__, url_prefix="/v1/imports")
TAGS = ["import and export"]


class ReadOptionsSchema(StrictSchema):
    encoding = fields.String(load_default=None, validate=validate.Length(min=2, max=40),
                             metadata={"description": "override the detected encoding, e.g. utf-8, cp1252, utf-16"})
    delimiter = fields.String(load_default=None, validate=validate.Length(equal=1),
                              metadata={"description": "override the detected delimiter: , ; or a tab"})


class FailedRowsQuerySchema(StrictSchema):
    as_uploaded = fields.Boolean(load_default=False, metadata={
        "description": "in the uploaded file's encoding and delimiter (e.g. Windows-1252 and ';' for French Excel) "
                       "instead of UTF-8 and ','"})


class StartSchema(ReadOptionsSchema):
    mapping = fields.List(fields.Dict(), load_default=None, metadata={"description": (
        "one object per column: {target, slot?, tag?, key?, name?, type?}; target is a contact field, an email/"
        "phone/address part, labels, custom_field (key), new_custom_field (name, type) or skip. "
        "Omitted: the suggested mapping")})
    labels = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                         validate=validate.Length(max=20),
                         metadata={"description": "label names given to every imported contact (created if missing)"})
    mark_subscribed = fields.Boolean(load_default=False, metadata={
        "description": "every email becomes subscribed (except those the file marks unsubscribed)"})
    on_match = fields.String(load_default="skip", validate=validate.OneOf(ON_MATCH), metadata={
        "description": "a row whose email (then phone) is an existing contact's, or an earlier row's: skip it, "
                       "update that contact (a row adding an email or phone another contact holds fails), "
                       "or create a new one anyway"})


class ImportSchema(Schema):
    id = fields.String(required=True)
    file_name = fields.String()
    format = fields.String(validate=validate.OneOf(("csv", "vcard")), metadata={"description": "csv or vcard"})
    status = fields.String(validate=validate.OneOf(("uploaded", "started", "expired")), metadata={
        "description": "uploaded, started, expired (file and failed rows deleted after IMPORT_RETENTION_DAYS)"})
    encoding = fields.String()
    delimiter = fields.String()
    header = fields.List(fields.String())
    row_count = fields.Integer()
    rows = fields.List(fields.Dict(), metadata={"description": "the first rows, as read"})
    suggested_mapping = fields.List(fields.Dict())
    settings = fields.Dict(allow_none=True, metadata={"description": "how the import was started: format, encoding, "
                                                                     "delimiter, mapping, on_match, labels"})
    job = fields.Nested(JobSchema, allow_none=True)
    failed_rows_url = fields.String(allow_none=True)


def _custom_fields() -> list[dict]:
    return views.list_custom_fields(current_container().custom_fields_projection.collection, account_id())


class ImportUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "a CSV (any encoding, `,` `;` or tab) or vCard file"})


@bp.post("")
@operation("Upload a CSV or vCard file: get its preview, detected encoding and delimiter, and a suggested mapping",
           tags=TAGS, request_schema=ImportUploadSchema, request_media_type="multipart/form-data",
           responses={201: ImportSchema}, problems=(413, 415, 422))
def upload_file():
    container = current_container()
    upload = uploaded_file("file", container.settings["IMPORT_MAX_BYTES"])
    body = import_handlers.upload(container.imports, container.uploads, account_id(), upload.file_name, upload.data,
                                  _custom_fields())
    return body, 201, {"Location": url_for("imports.get_import", import_id=body["id"])}


@bp.get("/template.csv")
@operation("A CSV template in our standard format, with one example row", tags=TAGS,
           responses={200: ("text/csv", TEXT_FILE)})
def template():
    excel_fr = request.args.get("excel_fr", "").lower() in ("1", "true", "yes")
    return Response(template_csv(excel_fr), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="contacts-template.csv"'})


@bp.get("/<import_id>")
@operation("An import: its file, settings and, once started, its job's progress "
           "(counts: rows, created, updated, skipped, failed)", tags=TAGS, responses={200: ImportSchema},
           problems=(404,))
def get_import(import_id: str):
    container = current_container()
    record = container.imports.get(account_id(), import_id)
    expired = container.imports.is_expired(record)
    body = {"id": record["_id"], "file_name": None if expired else record["file_name"], "format": record["format"],
            "status": "expired" if expired else record["status"], "settings": record.get("settings"), "job": None,
            "failed_rows_url": None}
    if record.get("job_id"):
        body["job"] = job_view(container.jobs.get(account_id(), record["job_id"]))
        if not expired:
            body["failed_rows_url"] = url_for("imports.failed_rows", import_id=import_id)
    return body


@bp.get("/<import_id>/preview")
@operation("Preview the file again, read with another encoding or delimiter", tags=TAGS,
           query_schema=ReadOptionsSchema, responses={200: ImportSchema}, problems=(404, 422))
def preview(import_id: str):
    options = ReadOptionsSchema().load(request.args.to_dict())
    container = current_container()
    record = container.imports.live(account_id(), import_id)
    data = container.uploads.read(record)
    body = import_handlers.preview(record["format"], data, options["encoding"], options["delimiter"], _custom_fields())
    return {"id": import_id, "file_name": record["file_name"], "status": record["status"], **body}


@bp.post("/<import_id>/start")
@operation("Start the import as a job (202); follow it at the returned job URL or GET /v1/imports/{id}", tags=TAGS,
           request_schema=StartSchema, responses={202: JobSchema}, problems=(404, 415, 422))
def start(import_id: str):
    data = StartSchema().load(json_body())
    settings = commands.ImportSettings(data["mapping"], data["encoding"], data["delimiter"], tuple(data["labels"]),
                              data["mark_subscribed"], data["on_match"])
    job = current_container().bus.handle(commands.StartImport(account_id(), import_id, settings, _custom_fields()))
    return job_view(job), 202, {"Location": url_for("jobs.get_job", job_id=job["_id"])}


@bp.get("/<import_id>/failed-rows")
@operation(f"The rows that failed, as CSV: the file's columns plus `{ROW_COLUMN}` and `{ERROR_COLUMN}`, "
           "ready to fix and upload again", tags=TAGS, query_schema=FailedRowsQuerySchema,
           responses={200: ("text/csv", TEXT_FILE)},
           problems=(404, 422))
def failed_rows(import_id: str):
    as_uploaded = FailedRowsQuerySchema().load(request.args.to_dict())["as_uploaded"]
    container = current_container()
    record = container.imports.live(account_id(), import_id)
    settings = record.get("settings") or {}
    header = settings.get("header") or []  # kept at start; vCards have none
    style = CsvStyle()
    if as_uploaded and settings.get("encoding"):  # a CSV file's (a vCard's failed rows stay plain CSV)
        style = CsvStyle.like_upload(settings["encoding"], settings["delimiter"])
    body = failed_rows_csv(header, container.imports.failed_rows(import_id), style=style)
    suffix = ".txt" if as_uploaded and record["file_name"].lower().endswith(".txt") else ".csv"  # Excel's "Unicode text"
    name = f"failed-rows-{import_id[7:15]}{suffix}"
    return Response(body, content_type=f"text/csv; charset={style.encoding}",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.delete("/<other_than('template.csv'):import_id>")
@operation("Delete an import's file and failed rows (the contacts it created stay); 409 while it runs", tags=TAGS,
           responses={204: None}, problems=(404, 409))
def delete_import(import_id: str):
    container = current_container()
    import_retention.delete_import(container.imports, container.uploads, container.jobs, account_id(), import_id)
    return "", 204
