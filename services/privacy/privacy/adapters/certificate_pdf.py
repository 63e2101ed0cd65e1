"""A privacy request's certificate printed: a PDF/A-3b for a file or a regulator, with the signed JSON inside.

The page shows what the JSON says (request, keyed subject hash, times, each service's outcome, the keys
destroyed by their keyed ids, what was retained, on which legal basis and until when, the verification), and
the signed JSON itself is attached as `certificate.json` (relationship /Source): what `python -m
privacy.entrypoints.verify` checks is that attachment, the page is its rendering. Nothing personal is on it,
as nothing personal is in the certificate. Every value is escaped (Jinja2 autoescape).
"""
from __future__ import annotations

import json
import logging
from importlib import resources

import jinja2
# Loaded with the module (Pango and fontconfig take seconds to start): at a worker's start, not in a request.
from weasyprint import HTML, Attachment

# WeasyPrint logs each step of each render at INFO: a line per step is noise in the service's log
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

PDF_VARIANT = "pdf/a-3b"
_TEMPLATES = resources.files("privacy.adapters") / "templates"
_environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                                  undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def certificate_pdf(certificate: dict, public_key: dict) -> bytes:
    """The signed certificate as a PDF/A-3b, with `certificate.json` (the exact signed JSON) attached."""
    html = _environment.get_template("certificate.html.j2").render(c=certificate, key=public_key)
    signed_json = json.dumps(certificate, ensure_ascii=False, indent=2)
    attachment = Attachment(string=signed_json, name="certificate.json", relationship="Source",
                            description="The signed certificate (JSON): verify it with privacy's verify command")
    return HTML(string=html, base_url=str(_TEMPLATES)).write_pdf(
        pdf_variant=PDF_VARIANT, attachments=[attachment])
