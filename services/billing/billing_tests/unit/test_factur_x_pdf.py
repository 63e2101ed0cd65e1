"""embed_factur_x: a WeasyPrint PDF/A-3b becomes a Factur-X EN 16931 PDF, read back with pikepdf."""
import io

import pikepdf
import pytest
from weasyprint import HTML

from billing.adapters.cross_industry_invoice import credit_note_xml, invoice_xml
from billing.adapters.factur_x_pdf import embed_factur_x
from billing.domain.credit_notes import CreditNote
from billing_tests.e_invoice_validation import problems

from .fakes import SELLER
from .test_invoices import ISSUED_ON, issued

FX = "{urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#}"
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"


@pytest.fixture(scope="module")
def pdf_a3() -> bytes:
    return HTML(string="<h1>Facture F-2026-0001</h1><p>Dupont &amp; Fils — 1 505,45 €</p>").write_pdf(
        pdf_variant="pdf/a-3b")


def credit_note() -> CreditNote:
    note = CreditNote.start(issued(), None, "Commande annulée", ISSUED_ON, SELLER, "AV-{YYYY}-{SEQ:4}")
    note.issue("AV-2026-0001")
    return note


@pytest.mark.parametrize("xml_of", [lambda: invoice_xml(issued(discount={"kind": "percent", "value": "10"})),
                                    lambda: credit_note_xml(credit_note())], ids=["invoice", "credit note"])
def test_the_xml_is_attached_as_factur_x_xml_with_its_relationship_and_xmp(pdf_a3, xml_of):
    xml = xml_of()
    pdf = pikepdf.open(io.BytesIO(embed_factur_x(pdf_a3, xml)))
    attachment = pdf.attachments["factur-x.xml"]
    assert attachment.get_file().read_bytes() == xml and problems(attachment.get_file().read_bytes()) == []
    assert attachment.obj.AFRelationship == pikepdf.Name.Data
    assert [spec.objgen for spec in pdf.Root.AF] == [attachment.obj.objgen]  # /AF on the catalog names it
    metadata = pdf.open_metadata()
    assert (metadata[f"{FX}ConformanceLevel"], metadata[f"{FX}DocumentType"], metadata[f"{FX}DocumentFileName"]) == (
        "EN 16931", "INVOICE", "factur-x.xml")
    assert (metadata[f"{PDFAID}part"], metadata[f"{PDFAID}conformance"]) == ("3", "B")
    assert len(pdf.pages) == 1


def test_an_xml_the_xsd_refuses_is_not_embedded(pdf_a3):
    xml = invoice_xml(issued()).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    with pytest.raises(Exception, match="not valid against the official XML Schema Definition"):
        embed_factur_x(pdf_a3, xml)


def test_factur_x_logs_nothing_of_the_document_even_at_debug(caplog):
    import logging

    from billing.adapters import factur_x_pdf  # noqa: F401  (importing it holds the logger at WARNING)
    with caplog.at_level(logging.DEBUG):
        assert not logging.getLogger("factur-x").isEnabledFor(logging.INFO)
