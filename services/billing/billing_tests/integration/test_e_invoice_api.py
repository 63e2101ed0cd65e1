"""The EN 16931 XML of issued invoices and credit notes through the API and the real event store."""
import pytest
from lxml import etree

from billing_tests.e_invoice_validation import problems

from ..contact_events import LOUISE, ContactEvents
from .conftest import headers
from .test_invoices_api import draft

SELLER = {"name": "Agence Dupont & Fils", "siret": "73282932000074", "vat_number": "FR44732829320",
          "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP",
          "address": {"street": ["1 rue de la Paix"], "postal_code": "75002", "city": "Paris", "country": "FR"}}
TYPE_CODE = "./{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}ExchangedDocument/" \
            "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}TypeCode"


@pytest.fixture
def louise(container):
    """A contact billing heard of from contacts.events."""
    container.apply_to_customers(ContactEvents(container.cipher).created("contact:louise", LOUISE))
    return "contact:louise"


def issued_invoice(client, contact_id, seller=SELLER) -> dict:
    changed = client.patch("/v1/billing-settings", headers=headers(), json={"revision": 0, "seller": seller})
    assert changed.status_code == 200, changed.get_json()
    invoice = draft(client, contact_id, discount={"kind": "percent", "value": "10"})
    answer = client.post(f"/v1/invoices/{invoice['id']}/issue", headers=headers())
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_an_issued_invoice_and_its_credit_note_are_served_as_valid_en16931_xml(client, louise):
    invoice = issued_invoice(client, louise)
    answer = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=headers())
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    assert problems(answer.data) == []
    root = etree.fromstring(answer.data)
    assert root.findtext(TYPE_CODE) == "380"
    assert answer.data == client.get(f"/v1/invoices/{invoice['id']}/xml", headers=headers()).data

    note = client.post("/v1/credit-notes", headers=headers(), json={"invoice_id": invoice["id"], "reason": "Annulée"})
    assert note.status_code == 201, note.get_json()
    answer = client.get(f"/v1/credit-notes/{note.get_json()['id']}/xml", headers=headers())
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    assert problems(answer.data) == [] and etree.fromstring(answer.data).findtext(TYPE_CODE) == "381"


def test_a_draft_has_no_xml_and_another_accounts_document_is_not_found(client, louise):
    a_draft = draft(client, louise)
    answer = client.get(f"/v1/invoices/{a_draft['id']}/xml", headers=headers())
    assert answer.status_code == 409 and answer.content_type == "application/problem+json"
    assert answer.get_json()["type"].endswith("document-not-issued") and answer.get_json()["document_status"] == "draft"
    invoice = issued_invoice(client, louise)
    assert client.get(f"/v1/invoices/{invoice['id']}/xml", headers=headers("acct-2")).status_code == 404
    assert client.get("/v1/credit-notes/credit-note:nope/xml", headers=headers()).status_code == 404


def test_a_seller_without_a_country_is_a_problem_naming_the_field(client, louise):
    invoice = issued_invoice(client, louise, seller={**SELLER, "address": {"city": "Paris"}})
    answer = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=headers())
    assert answer.status_code == 409 and answer.get_json()["type"].endswith("not-an-e-invoice")
    assert answer.get_json()["field"] == "seller.address.country"


def attachments_of(pdf: bytes) -> dict:
    import io

    import pikepdf
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return {name: spec.get_file().read_bytes() for name, spec in document.attachments.items()}


def test_an_issued_invoice_and_its_credit_note_print_as_factur_x_with_the_xml_the_api_serves(client, louise):
    invoice = issued_invoice(client, louise)
    printed = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=headers())
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    xml = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=headers()).data
    assert attachments_of(printed.data) == {"factur-x.xml": xml}
    assert client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=headers()).data == printed.data  # kept once

    note = client.post("/v1/credit-notes", headers=headers(), json={"invoice_id": invoice["id"], "reason": "Annulée"})
    note_id = note.get_json()["id"]
    printed = client.get(f"/v1/credit-notes/{note_id}/pdf", headers=headers())
    assert attachments_of(printed.data) == {
        "factur-x.xml": client.get(f"/v1/credit-notes/{note_id}/xml", headers=headers()).data}


def test_an_invoice_en16931_cannot_describe_prints_as_a_plain_pdf(client, louise):
    invoice = issued_invoice(client, louise, seller={**SELLER, "address": {**SELLER["address"], "country": None}})
    assert client.get(f"/v1/invoices/{invoice['id']}/xml", headers=headers()).status_code == 409
    printed = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=headers())
    assert printed.status_code == 200 and attachments_of(printed.data) == {}
    a_draft = draft(client, louise)
    assert attachments_of(client.get(f"/v1/invoices/{a_draft['id']}/pdf", headers=headers()).data) == {}


def test_a_kept_factur_x_pdf_read_again_builds_no_xml(client, louise, monkeypatch):
    from billing.entrypoints import printing_api

    built, original = [], printing_api.e_invoice_xml

    def counted(document):
        built.append(document.id)
        return original(document)

    monkeypatch.setattr(printing_api, "e_invoice_xml", counted)
    invoice = issued_invoice(client, louise)
    first = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=headers()).data
    assert built == [invoice["id"]] and attachments_of(first)  # rendered once, as a Factur-X
    assert client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=headers()).data == first
    assert built == [invoice["id"]]  # read again from where it is kept: no XML built
