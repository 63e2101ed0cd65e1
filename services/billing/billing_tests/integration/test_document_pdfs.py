"""The kept PDFs of final documents on the real database: one per document and language, whoever kept it first."""
import pytest

from crm_platform.blobs import BlobStore

from billing.adapters.document_pdfs import KeptPdfs
from billing.domain.printed_documents import printed_invoice

from ..unit.test_invoices import issued


@pytest.fixture
def kept_pdfs(container):
    """The store alone: its documents are made here, in no event store, so no form is read again after a write
    (that check: test_privacy.py's test_a_pdf_rendered_before_a_restriction_and_kept_after_its_discard_...)."""
    return KeptPdfs(container.db["document_pdfs"], BlobStore.in_database(container.db, "document_pdf_blobs"),
                    container.cipher)


def test_two_first_requests_racing_serve_the_first_kept_and_leave_no_other_blob(container, kept_pdfs):
    pdfs, document = kept_pdfs, printed_invoice(issued(), {})

    def render_while_another_request_keeps_its_own():
        assert pdfs.kept("acct-1", document, "fr", lambda: b"%PDF-the other request's") == b"%PDF-the other request's"
        return b"%PDF-this request's"

    assert pdfs.kept("acct-1", document, "fr", render_while_another_request_keeps_its_own) == b"%PDF-the other request's"
    assert pdfs.kept("acct-1", document, "fr", lambda: b"%PDF-never rendered") == b"%PDF-the other request's"
    assert container.db["document_pdf_blobs.manifests"].count_documents({}) == 1


def test_another_accounts_kept_pdf_is_not_served_and_discard_deletes_every_language(container, kept_pdfs):
    pdfs, document = kept_pdfs, printed_invoice(issued(), {})
    pdfs.kept("acct-1", document, "fr", lambda: b"%PDF-fr")
    pdfs.kept("acct-1", document, "en", lambda: b"%PDF-en")
    # a client may choose a document's id: another account's document of the same id keeps its own PDF
    assert pdfs.kept("acct-2", document, "fr", lambda: b"%PDF-acct-2") == b"%PDF-acct-2"
    pdfs.discard("acct-2", [document.document_id])  # acct-2's document of that id: its PDF only
    assert pdfs.stored("acct-2", document.document_id, "fr") is None
    assert pdfs.stored("acct-1", document.document_id, "fr") == b"%PDF-fr"
    pdfs.discard("acct-1", [document.document_id])
    assert pdfs.stored("acct-1", document.document_id, "fr") is None
    assert pdfs.stored("acct-1", document.document_id, "en") is None
    assert container.db["document_pdf_blobs.manifests"].count_documents({}) == 0
    assert container.db["document_pdf_blobs.chunks"].count_documents({}) == 0
