"""Billing documents printed: the preview HTML, and the PDF (the print format), kept once final.

A final document (issued invoice or credit note, quote once sent) prints the same bytes every time: its PDF is
rendered on the first request and kept (adapters/document_pdfs.py). A draft is rendered on each request, with a
draft watermark and the account's seller as it is now.
"""
from __future__ import annotations

from typing import Callable, Protocol

from billing.domain.printed_documents import (CREDIT_NOTE, INVOICE, QUOTE, PrintedDocument, printed_credit_note,
                                              printed_invoice, printed_quote)
from billing.service_layer.unit_of_work import UnitOfWork

Renderer = Callable[[PrintedDocument, str], bytes]


class PdfKeeper(Protocol):
    def kept(self, account_id: str, document: PrintedDocument, lang: str, render: Callable[[], bytes]) -> bytes: ...


def printed(kind: str, account_id: str, document_id: str, uow: UnitOfWork) -> PrintedDocument:
    """The document as printed; the repository's not-found error (404) for another account's or a deleted one."""
    with uow:
        seller_now = uow.account_defaults.for_account(account_id).seller
        if kind == INVOICE:
            invoice = uow.invoices.get(account_id, document_id)
            return printed_invoice(invoice, seller_now, _buyer_now(uow, account_id, invoice))
        if kind == CREDIT_NOTE:
            return printed_credit_note(uow.credit_notes.get(account_id, document_id))
        if kind == QUOTE:
            quote = uow.quotes.get(account_id, document_id)
            return printed_quote(quote, seller_now, _buyer_now(uow, account_id, quote))
    raise ValueError(f"no printed form of {kind}")


def _buyer_now(uow: UnitOfWork, account_id: str, document) -> dict:
    """A draft's contact as billing knows it now (an issued document prints the buyer frozen at issue)."""
    if document.buyer or uow.customers is None:
        return {}
    customer = uow.customers.find(account_id, document.contact_id)
    return {} if customer is None or customer.deleted else customer.buyer


def pdf(account_id: str, document: PrintedDocument, lang: str, pdfs: PdfKeeper, render_pdf: Renderer) -> bytes:
    """The document's PDF in `lang`: kept once final, rendered anew while a draft."""
    if not document.final:
        return render_pdf(document, lang)
    return pdfs.kept(account_id, document, lang, lambda: render_pdf(document, lang))
