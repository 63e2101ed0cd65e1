"""Billing documents printed: the preview HTML, and the PDF (the print format), kept once final.

A final document (issued invoice or credit note, quote once sent) prints the same bytes every time: its PDF is
rendered on the first request and kept (adapters/document_pdfs.py). A draft is rendered on each request, with a
draft watermark and the account's seller as it is now.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Protocol

from crm_platform.errors import NotFound
from crm_platform.personal_data import SubjectErased

from billing.domain.printed_documents import (CREDIT_NOTE, INVOICE, QUOTE, PrintedDocument, printed_credit_note,
                                              printed_invoice, printed_quote)
from billing.service_layer.unit_of_work import UnitOfWork

Renderer = Callable[[PrintedDocument, str], bytes]
EInvoice = Callable[[object], "bytes | None"]  # an issued invoice or credit note -> its EN 16931 XML, or None


class PdfKeeper(Protocol):
    def kept(self, account_id: str, document: PrintedDocument, lang: str, render: Callable[[], bytes]) -> bytes: ...

    def discard_superseded(self, account_id: str, document: PrintedDocument) -> None:
        """Delete its kept PDFs in a form it no longer prints in (adapters/document_pdfs.py)."""


def printed(kind: str, account_id: str, document_id: str, uow: UnitOfWork,
            e_invoice: EInvoice | None = None) -> PrintedDocument:
    """The document as printed, a final invoice or credit note with its e-invoice XML (`e_invoice`) to embed; the
    repository's not-found error (404) for another account's or a deleted one."""
    with uow:
        seller_now = uow.account_defaults.for_account(account_id).seller
        if kind == INVOICE:
            invoice = uow.invoices.get(account_id, document_id)
            return with_e_invoice(printed_invoice(invoice, seller_now, _buyer_now(uow, account_id, invoice)), invoice,
                                  e_invoice)
        if kind == CREDIT_NOTE:
            note = uow.credit_notes.get(account_id, document_id)
            return with_e_invoice(printed_credit_note(note), note, e_invoice)
        if kind == QUOTE:
            quote = uow.quotes.get(account_id, document_id)
            return printed_quote(quote, seller_now, _buyer_now(uow, account_id, quote))
    raise ValueError(f"no printed form of {kind}")


def form_now(account_id: str, document: PrintedDocument, uow: UnitOfWork) -> tuple[bool, bool] | None:
    """(restricted, void) of the document as it prints now, read again from its events; None once it is gone
    (deleted, erased, another account's): what a kept PDF is checked against once its record is written."""
    with uow:
        if document.kind == INVOICE:
            invoice = uow.invoices.find(account_id, document.document_id)
            now = None if invoice is None or invoice.gone else printed_invoice(invoice, {})
        elif document.kind == CREDIT_NOTE:
            note = uow.credit_notes.find(account_id, document.document_id)
            now = None if note is None or note.gone else printed_credit_note(note)
        else:
            quote = uow.quotes.find(account_id, document.document_id)
            now = None if quote is None or quote.gone else printed_quote(quote, {})
    return None if now is None else (now.restricted, now.void)


def with_e_invoice(document: PrintedDocument, source, e_invoice: EInvoice | None) -> PrintedDocument:
    """A final document with how to make the XML its PDF embeds (Factur-X), made only if the PDF is rendered (a kept
    PDF read again builds no XML); a draft, or without `e_invoice`, as it is."""
    if e_invoice is None or not document.final:
        return document
    return replace(document, e_invoice_xml=lambda: e_invoice(source))


def _buyer_now(uow: UnitOfWork, account_id: str, document) -> dict:
    """A draft's contact as billing knows it now (an issued document prints the buyer frozen at issue)."""
    if document.buyer or uow.customers is None:
        return {}
    customer = uow.customers.find(account_id, document.contact_id)
    return {} if customer is None or customer.deleted else customer.buyer


# the events after which a document's PDF is kept: issued, and an invoice voided (its PDF stamped void from then on)
KEPT_AFTER = {"InvoiceIssued": INVOICE, "CreditNoteIssued": CREDIT_NOTE, "InvoiceVoided": INVOICE}
# the events after which a PDF kept before no longer shows the document as it prints now: voided, or kept for the
# law only after its person's erasure (printed without their e-mails and notes: rendered so on the next request)
SUPERSEDING = {"InvoiceVoided": INVOICE, "InvoiceProcessingRestricted": INVOICE,
               "CreditNoteProcessingRestricted": CREDIT_NOTE}
KEPT_LANGUAGE = "fr"  # the language kept at issue: what an export holds and the default download


def keep_printed(event_type: str, account_id: str, document_id: str, uow: UnitOfWork, pdfs: PdfKeeper,
                 render_pdf: Renderer, e_invoice: EInvoice | None) -> bool:
    """The worker's printing consumer, on billing's own events: the PDFs kept of a document in a form it no longer
    prints in deleted (SUPERSEDING), then the PDF of an invoice or credit note just issued or voided rendered and
    kept (KEPT_AFTER): the first download and a privacy export then read it instead of rendering it, which takes a
    good part of a second of CPU per document. Idempotent (a PDF kept already is kept, one deleted stays deleted);
    False for any other event, and for a document gone since (deleted or erased): nothing to print."""
    kind = KEPT_AFTER.get(event_type) or SUPERSEDING.get(event_type)
    if kind is None:
        return False
    try:
        document = printed(kind, account_id, document_id, uow, e_invoice)
    except (NotFound, SubjectErased):
        return False
    if not document.final:
        return False
    if event_type in SUPERSEDING:
        pdfs.discard_superseded(account_id, document)
    if event_type in KEPT_AFTER:
        pdf(account_id, document, KEPT_LANGUAGE, pdfs, render_pdf)
    return True


def pdf(account_id: str, document: PrintedDocument, lang: str, pdfs: PdfKeeper, render_pdf: Renderer) -> bytes:
    """The document's PDF in `lang`: kept once final, rendered anew while a draft."""
    if not document.final:
        return render_pdf(document, lang)
    return pdfs.kept(account_id, document, lang, lambda: render_pdf(document, lang))
