"""A Factur-X PDF: the document's PDF/A-3 with its EN 16931 XML embedded (cross_industry_invoice.py builds the XML).

factur-x (Akretion's reference implementation of the Factur-X/ZUGFeRD specification) does the PDF work: it attaches
the XML as `factur-x.xml` with /AFRelationship /Data, lists it in the catalog's /AF array and writes the XMP
metadata a Factur-X reader looks for (PDF/A-3 identification, the fx: extension schema with DocumentType INVOICE,
DocumentFileName factur-x.xml, ConformanceLevel EN 16931). It checks the XML against the Factur-X XSD first. Its
debug and info logs (logger `factur-x`) hold the XML, the XMP and the parties' names: its logger is held at WARNING here, whatever
LOG_LEVEL says, since logs carry no personal data.
"""
from __future__ import annotations

import logging

from facturx import generate_from_binary

FACTUR_X_LEVEL = "en16931"
logging.getLogger("factur-x").setLevel(logging.WARNING)


def embed_factur_x(pdf: bytes, xml: bytes) -> bytes:
    """The PDF (a PDF/A-3b, as WeasyPrint renders it) with `xml` attached as factur-x.xml, Factur-X EN 16931."""
    return generate_from_binary(pdf, xml, flavor="factur-x", level=FACTUR_X_LEVEL, check_xsd=True,
                                afrelationship="data")
