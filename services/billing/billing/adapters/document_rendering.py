"""Billing documents printed: one Jinja2 template set renders the preview HTML and, through WeasyPrint, the PDF.

What a user previews is what the customer gets: `render_pdf` lays out the very HTML `render_html` returns.
Every value is escaped (autoescape on every template): a line description is text, never markup.
Numbers, amounts and dates are localised by babel (fr: "1 234,50 €", en: "€1,234.50"); labels come
from document_labels.py. The PDF is a PDF/A-3b (archivable, and the form Factur-X embeds its XML into).
"""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from importlib import resources

import jinja2
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
# Loaded with the module (Pango and fontconfig take seconds to start): at a worker's start, not in its first request.
from weasyprint import HTML

# WeasyPrint logs each step of each render at INFO: a line per step is noise in the service's log
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

from billing.adapters.document_labels import (DEFAULT_LANGUAGE, LABELS, LANGUAGES, LOCALES, legal_terms_text,
                                              payment_term_text, period_text)
from billing.adapters.factur_x_pdf import embed_factur_x
from billing.domain.printed_documents import PrintedDocument

PDF_VARIANT = "pdf/a-3b"
_TEMPLATES = resources.files("billing.adapters") / "templates"
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True)


class DocumentFormat:
    """The babel formatters of one language, as the template calls them."""

    def __init__(self, lang: str, currency: str) -> None:
        self.locale = Locale.parse(LOCALES[lang])
        self.currency = currency

    def money(self, amount: Decimal) -> str:
        return format_currency(amount, self.currency, locale=self.locale)

    def price(self, amount: Decimal) -> str:
        """A unit price: every decimal it has (0.125 stays 0.125), at least the currency's."""
        return format_currency(amount.normalize(), self.currency, locale=self.locale, decimal_quantization=False)

    def number(self, value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=self.locale)

    def percent(self, rate: Decimal) -> str:
        sign = self.locale.number_symbols["latn"]["percentSign"]
        spacing = "\u00a0" if self.locale.language == "fr" else ""
        return f"{self.number(rate)}{spacing}{sign}"

    def date(self, iso: str | None) -> str:
        return format_date(date.fromisoformat(iso), format="long", locale=self.locale) if iso else ""


def checked_language(lang: str | None) -> str:
    """The language to print in: one of LANGUAGES, else the default."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def render_html(document: PrintedDocument, lang: str = DEFAULT_LANGUAGE) -> str:
    """The document as a standalone HTML page (the preview), in `lang` ("fr" or "en")."""
    return _render(document, checked_language(lang), for_print=False)


def render_pdf(document: PrintedDocument, lang: str = DEFAULT_LANGUAGE) -> bytes:
    """The document as a PDF/A-3b (the print format), from the same template as `render_html`; with its EN 16931
    XML embedded (a Factur-X e-invoice) when it has one."""
    return pdf_from_print_html(*print_inputs(document, lang))


def print_inputs(document: PrintedDocument, lang: str = DEFAULT_LANGUAGE) -> tuple[str, bytes | None]:
    """What `pdf_from_print_html` lays out: the print HTML and the XML to embed (None: none), plain values that pickle
    (the document's `e_invoice_xml` is a closure: it is called here, where the document is)."""
    html = _render(document, checked_language(lang), for_print=True)
    xml = document.e_invoice_xml() if document.e_invoice_xml is not None else None
    return html, xml


def pdf_from_print_html(html: str, xml: bytes | None) -> bytes:
    """The PDF/A-3b of a print HTML, with `xml` embedded as its Factur-X when given: the CPU-heavy part of a render
    (WeasyPrint), which the worker runs in another process (adapters/render_process.py)."""
    pdf = HTML(string=html, base_url=str(_TEMPLATES)).write_pdf(
        pdf_variant=PDF_VARIANT, custom_metadata=False, uncompressed_pdf=False)
    return embed_factur_x(pdf, xml) if xml else pdf


def _render(document: PrintedDocument, lang: str, for_print: bool) -> str:
    labels = LABELS[lang]
    fmt = DocumentFormat(lang, document.currency)
    return _environment.get_template("document.html.j2").render(
        doc=document, lang=lang, t=labels, fmt=fmt, for_print=for_print,
        css=(_TEMPLATES / "document.css").read_text(encoding="utf-8"),
        payment_term=payment_term_text(document.payment_term, lang, fmt.date) if document.kind == "invoice" else "",
        legal_terms=legal_terms_text(document.legal_terms, lang), period=period_text(document.period, lang, fmt.date),
        title=f"{labels[document.kind]} {document.number or ''}".strip())
