"""Files attached to a contact (`/v1/contacts/{id}/attachments`) and its profile picture (`/v1/contacts/{id}/picture`).

Views load, call a handler, dump. Contents are read from the request in
memory (bounded by the settings) and streamed back chunk by chunk.
"""
from __future__ import annotations

from flask import Blueprint, request, url_for
from marshmallow import Schema, fields, validate

from crm_platform.file_transfer import download_response, uploaded_file
from crm_platform.http_schemas import PageQuerySchema
from crm_platform.openapi import BINARY, operation
from crm_platform.web import account_id, current_container

from contacts import views
from contacts.domain import commands
from contacts.domain.attachments import KINDS, PROFILE_PICTURE
from contacts.domain.file_types import FILE_TYPES, IMAGE_TYPES
from contacts.service_layer import attachment_handlers
from contacts.entrypoints import caught_up

bp = Blueprint("attachments", __name__, url_prefix="/v1/contacts/<contact_id>")
TAGS = ["attachments"]
ATTACHMENT_RESPONSES = {200: (tuple(FILE_TYPES), BINARY), 304: None}
PICTURE_RESPONSES = {200: (IMAGE_TYPES, BINARY), 304: None}
THUMBNAIL_RESPONSES = {200: (("image/jpeg", "image/png"), BINARY), 304: None}  # adapters/images.py


class FileUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": f"accepted: {', '.join(FILE_TYPES)}"})


class AttachmentSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "file or profile_picture"})
    file_name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    created_at = fields.String(required=True)
    download_url = fields.String(required=True)
    thumbnail_url = fields.String(allow_none=True, metadata={"description": "profile pictures only"})


class AttachmentPageSchema(Schema):
    items = fields.List(fields.Nested(AttachmentSchema), required=True)
    next_cursor = fields.String(allow_none=True)


def _representation(attachment_id: str, contact_id: str, kind: str, details: dict) -> dict:
    picture = kind == PROFILE_PICTURE
    return {
        "id": attachment_id, "kind": kind, **details,
        "download_url": url_for("attachments.download_attachment", contact_id=contact_id, attachment_id=attachment_id),
        "thumbnail_url": url_for("attachments.download_thumbnail", contact_id=contact_id) if picture else None,
    }


def _from_aggregate(attachment) -> dict:
    file = attachment.file
    return _representation(attachment.id, attachment.contact_id, attachment.kind, {
        "file_name": file.file_name, "content_type": file.content_type, "size": file.size, "sha256": file.sha256,
        "created_at": attachment.created_at})


def _from_view(doc: dict) -> dict:
    return _representation(doc["_id"], doc["contact_id"], doc["kind"], {
        "file_name": doc["file_name"], "content_type": doc["content_type"], "size": doc["size"], "sha256": doc["sha256"],
        "created_at": doc["created_at"].isoformat(timespec="milliseconds")})


def _download(opened: tuple, thumbnail: bool = False, inline: bool = False):
    attachment, info, contents = opened
    file = attachment.file
    name = f"thumbnail{FILE_TYPES[info.content_type][0][0]}" if thumbnail else file.file_name
    return download_response(contents, length=info.length, content_type=info.content_type, file_name=name,
                             etag=file.sha256 + (".thumbnail" if thumbnail else ""), inline=inline)


def _upload_command(command, contact_id: str, max_bytes_setting: str):
    max_bytes = current_container().settings[max_bytes_setting]
    upload = uploaded_file("file", max_bytes)
    return command(account_id(), contact_id, upload.file_name, upload.content_type, upload.data, max_bytes)


@bp.post("/attachments")
@operation("Attach a file (multipart/form-data, field `file`): 413 past the size limit, 415 for a type not "
           "accepted, 422 if the content is not what its type says", tags=TAGS, request_schema=FileUploadSchema,
           request_media_type="multipart/form-data", responses={201: AttachmentSchema}, problems=(404, 409, 413, 415, 422))
def add_attachment(contact_id: str):
    cmd = _upload_command(commands.AddAttachment, contact_id, "ATTACHMENT_MAX_BYTES")
    body = _from_aggregate(current_container().bus.handle(cmd))
    return body, 201, {"Location": url_for("attachments.get_attachment", contact_id=contact_id, attachment_id=body["id"])}


@bp.get("/attachments")
@operation("A contact's attachments, newest first (its profile picture among them)", tags=TAGS,
           query_schema=PageQuerySchema, responses={200: AttachmentPageSchema}, problems=(404, 422))
def list_attachments(contact_id: str):
    query = PageQuerySchema().load(request.args.to_dict())
    container = current_container()
    caught_up.contact(account_id(), contact_id)
    docs, next_cursor = views.contact_items_page(container.attachments_projection.collection, account_id(), contact_id,
                                                 **query)
    return {"items": [_from_view(d) for d in docs], "next_cursor": next_cursor}


@bp.get("/attachments/<attachment_id>")
@operation("An attachment's description", tags=TAGS, responses={200: AttachmentSchema}, problems=(404,))
def get_attachment(contact_id: str, attachment_id: str):
    return _from_aggregate(attachment_handlers.get_attachment(account_id(), contact_id, attachment_id,
                                                              current_container().unit_of_work()))


@bp.get("/attachments/<attachment_id>/content")
@operation("Download an attachment (ETag is its SHA-256)", tags=TAGS, responses=ATTACHMENT_RESPONSES, problems=(404,))
def download_attachment(contact_id: str, attachment_id: str):
    return _download(attachment_handlers.open_attachment(account_id(), contact_id, attachment_id,
                                                         current_container().unit_of_work()))


@bp.delete("/attachments/<attachment_id>")
@operation("Delete an attachment", tags=TAGS, responses={204: None}, problems=(404, 409))
def delete_attachment(contact_id: str, attachment_id: str):
    current_container().bus.handle(commands.DeleteAttachment(account_id(), contact_id, attachment_id))
    return "", 204


@bp.put("/picture")
@operation("Set the profile picture (multipart/form-data, field `file`: JPEG, PNG, WebP or GIF); it replaces the "
           "previous one and gets a 128x128 thumbnail", tags=TAGS, request_schema=FileUploadSchema,
           request_media_type="multipart/form-data", responses={200: AttachmentSchema}, problems=(404, 409, 413, 415, 422))
def set_picture(contact_id: str):
    cmd = _upload_command(commands.SetProfilePicture, contact_id, "PICTURE_MAX_BYTES")
    return _from_aggregate(current_container().bus.handle(cmd))


@bp.get("/picture")
@operation("The profile picture as uploaded", tags=TAGS, responses=PICTURE_RESPONSES, problems=(404,))
def download_picture(contact_id: str):
    opened = attachment_handlers.open_profile_picture(account_id(), contact_id, current_container().unit_of_work())
    return _download(opened, inline=True)


@bp.get("/picture/thumbnail")
@operation("The profile picture's thumbnail (fits in 128x128; JPEG, or PNG if transparent)", tags=TAGS,
           responses=THUMBNAIL_RESPONSES, problems=(404,))
def download_thumbnail(contact_id: str):
    opened = attachment_handlers.open_profile_picture(account_id(), contact_id, current_container().unit_of_work(),
                                                      thumbnail=True)
    return _download(opened, thumbnail=True, inline=True)


@bp.delete("/picture")
@operation("Remove the profile picture", tags=TAGS, responses={204: None}, problems=(404, 409))
def delete_picture(contact_id: str):
    current_container().bus.handle(commands.DeleteProfilePicture(account_id(), contact_id))
    return "", 204
