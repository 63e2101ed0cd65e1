"""What the preview and PDF views of invoices, credit notes and quotes share: the query, the two responses.

The routes are on each document's blueprint (`/v1/invoices/{id}/preview`, `.../pdf`...); the PDF is the print
format (the API docs say so), the preview the same template as HTML.
"""
from __future__ import annotations

import hashlib

from flask import Response, request
from marshmallow import fields, validate

from crm_platform.file_transfer import download_response
from crm_platform.http_schemas import StrictSchema
from crm_platform.openapi import BINARY, TEXT_FILE
from crm_platform.web import account_id, current_container

from billing.adapters.document_labels import DEFAULT_LANGUAGE, LABELS, LANGUAGES
from billing.adapters.cross_industry_invoice import e_invoice_xml
from billing.adapters.document_rendering import render_html, render_pdf
from billing.service_layer import printing

PDF_NOTE = ("The PDF is the print format: a PDF/A-3b, the same layout as the preview. An issued document's PDF is "
            "rendered once and kept, the same bytes every time; a draft's is rendered anew, watermarked.")
PREVIEW_NOTE = ("An HTML page from the same template as the PDF (what the customer gets), every value escaped; a "
                "draft is watermarked.")
PREVIEW_RESPONSES = {200: ("text/html", TEXT_FILE)}
PDF_RESPONSES = {200: (("application/pdf",), BINARY)}
# The preview is shown in the browser: nothing in it may run or load anything (its styles are inline).
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


class PrintQuerySchema(StrictSchema):
    lang = fields.String(load_default=DEFAULT_LANGUAGE, validate=validate.OneOf(LANGUAGES), metadata={
        "description": "the language the document is printed in (labels, dates, numbers, amounts): fr or en; "
                       "fr by default"})


def preview(kind: str, document_id: str) -> Response:
    lang = PrintQuerySchema().load(request.args.to_dict())["lang"]
    container = current_container()
    document = printing.printed(kind, account_id(), document_id, container.unit_of_work())
    response = Response(render_html(document, lang), content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def pdf(kind: str, document_id: str) -> Response:
    lang = PrintQuerySchema().load(request.args.to_dict())["lang"]
    container = current_container()
    document = printing.printed(kind, account_id(), document_id, container.unit_of_work(), e_invoice_xml)
    content = printing.pdf(account_id(), document, lang, container.kept_pdfs, render_pdf)
    labels = LABELS[lang]
    name = f"{labels[kind]} {document.number or labels['draft'].lower()}.pdf"
    return download_response(iter([content]), length=len(content), content_type="application/pdf", file_name=name,
                             etag=hashlib.sha256(content).hexdigest(), inline=True)
