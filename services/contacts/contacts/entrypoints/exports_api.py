"""Contact exports (`/v1/exports/contacts`): streamed CSV (standard, Google, Outlook) or vCard."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, request, stream_with_context
from marshmallow import fields, validate

from crm_platform.openapi import TEXT_FILE, operation
from crm_platform.web import account_id, current_container

from contacts import views
from contacts.contact_query import ContactQuery, typed_conditions
from contacts.entrypoints.schemas import ViewQuerySchema
from contacts.exporting import FORMATS, ExportSource, display_names, export_chunks
from contacts.service_layer import saved_view_handlers

bp = Blueprint("exports", __name__, url_prefix="/v1/exports")
TAGS = ["import and export"]
EXPORT_MEDIA_TYPES = tuple(dict.fromkeys(media_type for media_type, _ in FORMATS.values()))  # text/csv, text/vcard
MAX_IDS = 10_000


class ExportQuerySchema(ViewQuerySchema):
    format = fields.String(load_default="standard", validate=validate.OneOf(tuple(FORMATS)), metadata={
        "description": "standard (every field; re-imports to identical contacts), google, outlook or vcard"})
    excel_fr = fields.Boolean(load_default=False, metadata={
        "description": "for French Excel: UTF-8 with BOM, `;` between cells, decimal commas"})
    ids = fields.String(load_default=None, validate=validate.Length(max=MAX_IDS * 40),
                        metadata={"description": "comma-separated contact ids (the selection)"})
    label = fields.String(load_default=None, validate=validate.Length(max=64),
                          metadata={"description": "every contact with this label"})
    view = fields.String(load_default=None, validate=validate.Length(max=100),
                         metadata={"description": "a saved view's filter (its sort and columns do not apply)"})


@bp.get("/contacts")
@operation("Export contacts: selected ids, a label, a saved view or any filter of GET /v1/contacts; streamed",
           tags=TAGS, query_schema=ExportQuerySchema, responses={200: (EXPORT_MEDIA_TYPES, TEXT_FILE)},
           problems=(404, 422))
def export_contacts():
    container, account = current_container(), account_id()
    raw = request.args.to_dict()
    if raw.get("view"):
        raw = {**saved_view_handlers.saved_view_query(account, raw["view"], container.unit_of_work()), **raw}
    args = ExportQuerySchema().load(raw)
    file_format, excel_fr, ids, label = args.pop("format"), args.pop("excel_fr"), args.pop("ids"), args.pop("label")
    for name in ("view", "fields_", "sort"):
        args.pop(name, None)
    if label:
        args["labels_any"] = [*args["labels_any"], label]
    custom_fields = views.list_custom_fields(container.custom_fields_projection.collection, account)
    if args["custom_conditions"]:
        args["custom_conditions"] = typed_conditions(args["custom_conditions"], {f["key"]: f["type"] for f in custom_fields})
    names = display_names(container.labels_projection.collection, container.label_order_projection.collection,
                          container.option_lists_projection.collection, account)
    selected = [i.strip() for i in ids.split(",") if i.strip()][:MAX_IDS] if ids else None
    source = ExportSource(container.projection.collection, names, custom_fields, account, ContactQuery(**args), selected)
    mimetype, extension = FORMATS[file_format]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Response(stream_with_context(export_chunks(source, file_format, excel_fr)), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="contacts-{file_format}-{stamp}.{extension}"'})
