"""Preview and PDF of invoices, credit notes and quotes through the API, on the real database and blob store."""
import io
import shutil
import subprocess

import pikepdf
import pytest

from billing.adapters import document_rendering

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers
from .test_e_invoice_api import issued_invoice
from .test_invoices_api import BOOKS, LINE, draft


@pytest.fixture
def louise(container):
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:louise", LOUISE))
    return "contact:louise"


def issue(client, invoice_id):
    answer = client.post(f"/v1/invoices/{invoice_id}/issue", headers=headers())
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def pdf_of(client, path, account="acct-1"):
    answer = client.get(path, headers=headers(account))
    assert answer.status_code == 200, answer.data[:300]
    assert answer.headers["Content-Type"] == "application/pdf"
    return answer.data


def pdf_a_part_and_conformance(pdf: bytes):
    with pikepdf.open(io.BytesIO(pdf)) as document:
        metadata = document.open_metadata()
        return metadata["pdfaid:part"], metadata["pdfaid:conformance"]


def test_an_issued_invoice_previews_and_prints_the_same_pdf_every_time(client, louise):
    invoice = issue(client, draft(client, louise)["id"])
    preview = client.get(f"/v1/invoices/{invoice['id']}/preview?lang=en", headers=headers())
    assert preview.status_code == 200 and preview.headers["Content-Type"] == "text/html; charset=utf-8"
    page = preview.get_data(as_text=True).replace("\u202f", " ").replace("\xa0", " ")
    assert invoice["number"] in page and "Maison du Papier" in page and "€1,672.73" in page and "Draft" not in page
    assert "default-src 'none'" in preview.headers["Content-Security-Policy"]
    french = client.get(f"/v1/invoices/{invoice['id']}/preview", headers=headers()).get_data(as_text=True)
    assert "1\u202f672,73\xa0€" in french  # fr by default

    first = pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf")
    assert pdf_a_part_and_conformance(first) == ("3", "B")
    assert pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf") == first
    assert pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf?lang=en") != first


def test_the_kept_pdf_is_sealed_with_the_documents_key(client, container, louise):
    invoice = issue(client, draft(client, louise)["id"])
    pdf = pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf")
    record = container.db["document_pdfs"].find_one({"_id": f"acct-1:{invoice['id']}:fr"})
    assert record["subject_key"] == f"billing-document:{invoice['id']}"
    chunks = container.db["document_pdf_blobs.chunks"].find({"_id": {"$regex": f"^{record['blob_id']}"}})
    assert b"%PDF" not in b"".join(bytes(chunk["data"]) for chunk in chunks)
    assert container.kept_pdfs.stored("acct-1", invoice["id"], "fr") == pdf


def test_a_draft_is_rendered_anew_watermarked_and_changes_after_an_edit(client, louise):
    invoice = draft(client, louise)
    path = f"/v1/invoices/{invoice['id']}"
    page = client.get(f"{path}/preview", headers=headers()).get_data(as_text=True)
    assert ">Brouillon</div>" in page and "Maison du Papier" in page and "3 rue Neuve" in page  # its contact now
    before = pdf_of(client, f"{path}/pdf")
    edited = client.patch(path, headers=headers(), json={"lines": [LINE, {**BOOKS, "quantity": "7"}]})
    assert edited.status_code == 200
    after = pdf_of(client, f"{path}/pdf")
    assert after != before and pdf_a_part_and_conformance(after) == ("3", "B")
    text = client.get(f"{path}/preview", headers=headers()).get_data(as_text=True)
    assert "174,93" in text  # 7 x 24.99


def test_another_accounts_document_is_a_404_and_a_bad_language_a_422(client, louise):
    invoice = issue(client, draft(client, louise)["id"])
    for suffix in ("preview", "pdf"):
        assert client.get(f"/v1/invoices/{invoice['id']}/{suffix}", headers=headers("acct-2")).status_code == 404
        assert client.get(f"/v1/invoices/invoice:none/{suffix}", headers=headers()).status_code == 404
        bad = client.get(f"/v1/invoices/{invoice['id']}/{suffix}?lang=de", headers=headers())
        assert bad.status_code == 422 and bad.content_type == "application/problem+json"
        assert "lang" in str(bad.get_json())


def test_escaped_in_the_preview_of_what_a_user_wrote(client, louise):
    invoice = draft(client, louise, lines=[{**LINE, "description": "<script>alert(1)</script>"}])
    page = client.get(f"/v1/invoices/{invoice['id']}/preview", headers=headers()).get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_credit_notes_and_quotes_print_too(client, container, louise):
    invoice = issue(client, draft(client, louise)["id"])
    note = client.post("/v1/credit-notes", headers=headers(), json={"invoice_id": invoice["id"], "reason": "Erreur"})
    assert note.status_code == 201, note.get_json()
    note = note.get_json()
    page = client.get(f"/v1/credit-notes/{note['id']}/preview", headers=headers()).get_data(as_text=True)
    assert note["number"] in page and invoice["number"] in page
    first = pdf_of(client, f"/v1/credit-notes/{note['id']}/pdf")
    assert pdf_of(client, f"/v1/credit-notes/{note['id']}/pdf") == first

    quote = client.post("/v1/quotes", headers=headers(), json={"contact_id": louise, "lines": [LINE]}).get_json()
    assert pdf_a_part_and_conformance(pdf_of(client, f"/v1/quotes/{quote['id']}/pdf")) == ("3", "B")
    assert container.db["document_pdfs"].find_one({"_id": f"acct-1:{quote['id']}:fr"}) is None  # a draft: never kept
    sent = client.post(f"/v1/quotes/{quote['id']}/send", headers=headers()).get_json()
    kept = pdf_of(client, f"/v1/quotes/{quote['id']}/pdf")
    assert sent["number"] in client.get(f"/v1/quotes/{quote['id']}/preview", headers=headers()).get_data(as_text=True)
    assert pdf_of(client, f"/v1/quotes/{quote['id']}/pdf") == kept


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_pdftoppm_renders_the_first_page(client, louise, tmp_path):
    invoice = issue(client, draft(client, louise)["id"])
    (tmp_path / "invoice.pdf").write_bytes(pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf"))
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(tmp_path / "invoice.pdf"),
                    str(tmp_path / "page")], check=True, capture_output=True, timeout=60)
    png = next(tmp_path.glob("page*.png")).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def test_the_worker_keeps_an_invoices_pdf_as_it_is_issued_and_the_download_serves_it(client, container, louise):
    invoice = issue(client, draft(client, louise)["id"])
    events = container.event_store.load(invoice["id"])
    assert container.kept_pdfs.stored("acct-1", invoice["id"], "fr") is None
    for envelope in events:  # what the worker's printing consumer reads from billing.events
        container.keep_printed(envelope)
    kept = container.kept_pdfs.stored("acct-1", invoice["id"], "fr")
    assert kept is not None and pdf_a_part_and_conformance(kept) == ("3", "B")
    assert pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf") == kept
    for envelope in events:  # again (a redelivery): nothing rendered anew
        container.keep_printed(envelope)
    assert container.db["document_pdfs"].count_documents({"account_id": "acct-1"}) == 1

    a_draft = draft(client, louise)
    for envelope in container.event_store.load(a_draft["id"]):
        container.keep_printed(envelope)
    assert container.kept_pdfs.stored("acct-1", a_draft["id"], "fr") is None


def test_the_worker_lays_the_kept_pdf_out_in_another_process_with_the_invoices_factur_x(client, container, louise,
                                                                                         monkeypatch):
    invoice = issued_invoice(client, louise)  # a seller with what EN 16931 needs: the PDF embeds its XML
    xml = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=headers())
    assert xml.status_code == 200
    assert container.printing_renderer is not document_rendering.render_pdf

    def no_layout_here(*args, **kwargs):
        raise AssertionError("WeasyPrint called in the worker's own process")

    monkeypatch.setattr(document_rendering, "HTML", no_layout_here)  # this process's module, not the child's
    for envelope in container.event_store.load(invoice["id"]):
        container.keep_printed(envelope)
    kept = container.kept_pdfs.stored("acct-1", invoice["id"], "fr")
    assert kept is not None and pdf_a_part_and_conformance(kept) == ("3", "B")
    pdf = pikepdf.open(io.BytesIO(kept))  # held: an attachment read from a Pdf already collected crashes pikepdf
    assert pdf.attachments["factur-x.xml"].get_file().read_bytes() == xml.data


def test_a_voided_invoices_kept_pdf_is_replaced_by_one_stamped_void(client, container, louise):
    from ..unit.test_document_rendering import pdf_text

    invoice = issue(client, draft(client, louise)["id"])
    for envelope in container.event_store.load(invoice["id"]):  # the worker's printing consumer: kept at issue
        container.keep_printed(envelope)
    issued_pdf = pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf")
    assert issued_pdf == container.kept_pdfs.stored("acct-1", invoice["id"], "fr")
    assert "ANNULÉE" not in pdf_text(issued_pdf)
    voided = client.post(f"/v1/invoices/{invoice['id']}/void", headers=headers(), json={"reason": "Erreur"})
    assert voided.status_code == 200, voided.get_json()
    for _ in range(2):  # the void event, delivered again: the same result
        for envelope in container.event_store.load(invoice["id"]):
            container.keep_printed(envelope)
    assert container.kept_pdfs.stored("acct-1", invoice["id"], "fr") is None  # the issue-time PDF: gone
    kept = container.kept_pdfs.stored("acct-1", invoice["id"], "fr", void=True)
    assert kept is not None and "ANNULÉE" in pdf_text(kept)
    assert container.db["document_pdfs"].count_documents({"account_id": "acct-1"}) == 1
    assert container.db["document_pdf_blobs.manifests"].count_documents({}) == 1  # its blob deleted too
    assert pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf") == kept
    assert "VOID" in pdf_text(pdf_of(client, f"/v1/invoices/{invoice['id']}/pdf?lang=en"))
    preview = client.get(f"/v1/invoices/{invoice['id']}/preview?lang=en", headers=headers()).get_data(as_text=True)
    assert "VOID" in preview
