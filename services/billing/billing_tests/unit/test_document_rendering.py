"""The printed documents (preview HTML and PDF): one template, localised, escaped, drafts watermarked."""
import io
import re
import shutil
import subprocess
from datetime import date

import pikepdf
import pytest

from billing.adapters.document_rendering import render_html, render_pdf
from billing.domain.credit_notes import CreditNote
from billing.domain.printed_documents import printed_credit_note, printed_invoice, printed_quote
from billing.domain.quotes import Quote
from billing.domain.settings import BillingSettings

from .fakes import SELLER
from .test_invoices import BOOKS, BUYER, WEB_DAYS, draft, issued

FRENCH_SELLER = {**SELLER, "siret": "73282932000074", "iban": "FR7630006000011234567890189"}


def text_of(html: str) -> str:
    """The page's text as a reader sees it: tags dropped, babel's (narrow) no-break spaces as spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("\u202f", " ").replace("\xa0", " "))


def test_an_issued_invoice_in_french_prints_two_vat_rates_amounts_dates_and_legal_mentions():
    invoice = issued()
    page = text_of(render_html(printed_invoice(invoice, {}), "fr"))
    # 3 x 450.00 at 20 % and 2 x 24.99 at 5.5 %: bases 1 350,00 and 49,98, VAT 270,00 and 2,75
    assert "Facture" in page and "F-2026-0001" in page and "11 mars 2026" in page and "10 avril 2026" in page
    assert "5,5 % (S) 49,98 € 2,75 €" in page and "20 % (S) 1 350,00 € 270,00 €" in page
    assert "Total TTC 1 672,73 €" in page
    assert "SIREN 732829320" in page and "N° TVA FR44732829320" in page
    assert "Paiement à 30 jours" in page
    assert "Brouillon" not in page


def test_the_same_invoice_in_english_formats_the_english_way():
    page = text_of(render_html(printed_invoice(issued(), {}), "en"))
    assert "Invoice" in page and "11 March 2026" in page
    assert "5.5% (S) €49.98 €2.75" in page and "Total incl. VAT €1,672.73" in page
    assert "Payment within 30 days" in page


def issued_for_january():
    invoice = draft(period={"start": "2026-01-01", "end": "2026-01-31"})
    invoice.start_issue(None, date(2026, 4, 1), "contact:1", BUYER, FRENCH_SELLER, "F-{YYYY}-{SEQ:4}")
    invoice.issue("F-2026-0003")
    return printed_invoice(invoice, {})


def test_the_invoicing_period_is_printed_in_the_documents_language():
    document = issued_for_january()  # issued in April, it bills January (a recurring invoice caught up)
    assert "Période du 1 janvier 2026 au 31 janvier 2026" in text_of(render_html(document, "fr"))
    assert "Invoicing period from 1 January 2026 to 31 January 2026" in text_of(render_html(document, "en"))
    assert "Période" not in text_of(render_html(printed_invoice(issued(), {}), "fr"))  # none: nothing printed


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
def test_the_pdf_prints_the_invoicing_period():
    page = pdf_text(render_pdf(issued_for_january(), "fr"))  # the labels' column is read before the values'
    assert "Période" in page and "du 1 janvier 2026 au 31 janvier 2026" in page


def test_the_legal_terms_of_the_document_are_printed():
    invoice = draft(legal_terms="Indemnité forfaitaire pour frais de recouvrement de 40 €")
    invoice.start_issue(None, date(2026, 3, 11), "contact:1", BUYER, FRENCH_SELLER, "F-{YYYY}-{SEQ:4}")
    invoice.issue("F-2026-0002")
    page = text_of(render_html(printed_invoice(invoice, {}), "fr"))
    assert "frais de recouvrement de 40 €" in page and "SIRET 73282932000074" in page
    assert "IBAN FR7630006000011234567890189" in page


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler's pdftotext reads it, spaces folded."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return text_of(out.decode("utf-8"))


def issued_with_legal_terms(terms: str):
    invoice = draft(legal_terms=terms)
    invoice.start_issue(None, date(2026, 3, 11), "contact:1", BUYER, FRENCH_SELLER, "F-{YYYY}-{SEQ:4}")
    invoice.issue("F-2026-0002")
    return printed_invoice(invoice, {})


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
def test_an_english_pdf_prints_the_default_legal_mentions_in_english_and_an_accounts_own_as_written():
    defaults = BillingSettings("acct-1")
    defaults.settings["vat_exempt"] = True  # the VAT exemption mention, a line before the late-payment terms
    document = issued_with_legal_terms(defaults.legal_mentions())
    english = pdf_text(render_pdf(document, "en"))
    assert "fixed indemnity of €40 for recovery costs" in english and "three times the French legal" in english
    assert "VAT not applicable, art. 293 B" in english
    assert "pénalité" not in english and "indemnité" not in english and "TVA non applicable" not in english
    french = pdf_text(render_pdf(document, "fr"))
    assert "indemnité forfaitaire pour frais de recouvrement de 40 €" in french and "TVA non applicable" in french
    own = "Pénalités de retard : 10 % par an. Indemnité de 40 € (art. D441-5)."
    assert own in pdf_text(render_pdf(issued_with_legal_terms(own), "en"))  # an account's own: as written


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
def test_a_voided_invoice_prints_and_previews_stamped_void_in_its_language():
    invoice = issued()
    assert "ANNULÉE" not in pdf_text(render_pdf(printed_invoice(invoice, {}), "fr"))
    invoice.void(None, "erreur de saisie")
    voided = printed_invoice(invoice, {})
    assert voided.final and voided.void
    assert "ANNULÉE" in pdf_text(render_pdf(voided, "fr")).upper()
    assert "VOID" in pdf_text(render_pdf(voided, "en")).upper()
    assert "ANNULÉE" in text_of(render_html(voided, "fr")) and "VOID" in text_of(render_html(voided, "en"))


def test_what_a_user_wrote_is_escaped():
    script = "<script>alert('x')</script> & <b>bold</b>"
    invoice = draft(lines=({**WEB_DAYS, "description": script}, BOOKS), notes="<img src=x onerror=alert(1)>")
    html = render_html(printed_invoice(invoice, {"name": "<i>Seller</i>"}), "fr")
    assert "<script>" not in html and "<b>bold" not in html and "<img" not in html and "<i>Seller" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_a_draft_carries_a_watermark_in_its_language_and_takes_the_accounts_seller_and_its_contact_now():
    invoice = draft()
    french = render_html(printed_invoice(invoice, SELLER), "fr")
    english = render_html(printed_invoice(invoice, SELLER), "en")
    assert 'class="watermark"' in french and ">Brouillon</div>" in french
    assert ">Draft</div>" in english and "Agence Dupont SARL" in french
    assert 'class="watermark"' not in render_html(printed_invoice(issued(), SELLER), "fr")
    assert "Paul Nouveau" in render_html(printed_invoice(invoice, SELLER, {"name": "Paul Nouveau"}), "fr")
    assert "Paul Nouveau" not in render_html(printed_invoice(issued(), SELLER, {"name": "Paul Nouveau"}), "fr")


def test_an_unknown_language_prints_in_french():
    assert "Facture" in render_html(printed_invoice(issued(), {}), "de")


def test_quotes_and_credit_notes_print_with_their_own_title():
    quote = Quote.draft_new("acct-1", "contact:1", {"currency": "EUR", "lines": [WEB_DAYS]})
    page = text_of(render_html(printed_quote(quote, SELLER), "en"))
    assert "Quote (draft)" in page and "€1,350.00" in page
    invoice = issued()
    note = CreditNote.start(invoice, None, "Erreur de prix", date(2026, 3, 12), SELLER, "AV-{YYYY}-{SEQ:4}")
    note.issue("AV-2026-0001")
    page = text_of(render_html(printed_credit_note(note), "fr"))
    assert "Avoir" in page and "AV-2026-0001" in page and "F-2026-0001" in page and "Erreur de prix" in page
    assert "Brouillon" not in page


@pytest.mark.parametrize("printed", [lambda: printed_invoice(issued(), {}), lambda: printed_invoice(draft(), SELLER)])
def test_the_pdf_is_a_pdf_a_3b(printed):
    pdf = render_pdf(printed(), "fr")
    with pikepdf.open(io.BytesIO(pdf)) as document:
        metadata = document.open_metadata()
        assert (metadata["pdfaid:part"], metadata["pdfaid:conformance"]) == ("3", "B")
        assert len(document.pages) == 1
