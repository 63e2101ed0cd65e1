"""The EN 16931 (Factur-X) XML of issued invoices and credit notes: valid against the official XSD and schematron,
offline, with the document's own amounts to the cent."""
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from crm_platform.errors import InvalidInput

from billing.adapters.cross_industry_invoice import credit_note_xml, invoice_xml
from billing.domain.credit_notes import CreditNote
from billing.domain.errors import DocumentNotIssued, NotAnEInvoice
from billing.domain.invoices import Invoice
from billing_tests.e_invoice_validation import problems, schematron_findings

from .fakes import SELLER
from .test_invoices import BOOKS, BUYER, ISSUED_ON, WEB_DAYS, draft, issued

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}
SUMMATION = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"


def texts(xml: bytes, path: str) -> list[str]:
    return [node if isinstance(node, str) else node.text for node in etree.fromstring(xml).xpath(path, namespaces=NS)]


def issued_with(lines=(WEB_DAYS, BOOKS), discount=None, buyer=BUYER, seller=SELLER, currency="EUR",
                **content) -> Invoice:
    invoice = Invoice.draft_new("acct-1", "contact:1", {"currency": currency, "lines": list(lines),
                                                        "discount": discount,
                                                        "payment_term": {"kind": "net", "days": 30}, **content})
    invoice.start_issue(None, ISSUED_ON, "contact:1", buyer, seller, "F-{YYYY}-{SEQ:4}")
    invoice.issue("F-2026-0001")
    return invoice


def test_an_invoice_with_two_vat_rates_and_a_discount_is_a_valid_en16931_invoice_with_its_own_totals():
    invoice = issued(discount={"kind": "percent", "value": "10"})  # worked out by hand in test_invoices.py
    xml = invoice_xml(invoice)
    assert problems(xml) == []
    assert texts(xml, "//rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        "urn:cen.eu:en16931:2017"]
    assert texts(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert texts(xml, "//rsm:ExchangedDocument/ram:ID") == ["F-2026-0001"]
    assert texts(xml, "//ram:IncludedSupplyChainTradeLineItem//ram:LineTotalAmount") == ["1350.00", "49.98"]
    assert [texts(xml, SUMMATION + name)[0] for name in ("LineTotalAmount", "AllowanceTotalAmount",
                                                         "TaxBasisTotalAmount", "TaxTotalAmount",
                                                         "GrandTotalAmount", "DuePayableAmount")] == [
        "1399.98", "140.00", "1259.98", "245.47", "1505.45", "1505.45"]
    rows = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:"
    assert list(zip(texts(xml, rows + "RateApplicablePercent"), texts(xml, rows + "BasisAmount"),
                    texts(xml, rows + "CalculatedAmount"))) == [("5.5", "44.98", "2.47"), ("20", "1215.00", "243.00")]
    # the 10 % discount: one allowance per VAT rate, as the totals took it off each base
    allowances = "//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/"
    assert list(zip(texts(xml, allowances + "ram:ActualAmount"),
                    texts(xml, allowances + "ram:CategoryTradeTax/ram:RateApplicablePercent"))) == [
        ("5.00", "5.5"), ("135.00", "20")]
    assert texts(xml, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == ["732829320"]
    assert texts(xml, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID/@schemeID") == ["0002"]
    assert texts(xml, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == ["20260311"]
    assert texts(xml, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == ["20260410"]
    assert invoice_xml(invoice) == xml  # the same document, the same bytes


def test_an_invoicing_period_is_the_settlements_billing_period_and_stays_valid():
    xml = invoice_xml(issued_with(period={"start": "2026-01-01", "end": "2026-01-31"}))
    assert problems(xml) == []
    period = "//ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod/ram:"
    assert texts(xml, period + "StartDateTime/udt:DateTimeString") == ["20260101"]
    assert texts(xml, period + "EndDateTime/udt:DateTimeString") == ["20260131"]
    assert texts(xml, period + "*/udt:DateTimeString/@format") == ["102", "102"]
    assert texts(invoice_xml(issued_with()), "//ram:BillingSpecifiedPeriod") == []  # none: left out


def test_a_credit_note_is_type_381_and_references_the_invoice_it_credits():
    invoice = issued()
    note = CreditNote.start(invoice, [{**BOOKS, "quantity": "1"}], "Livre retourné", ISSUED_ON, SELLER,
                            "AV-{YYYY}-{SEQ:4}")
    note.issue("AV-2026-0001")
    xml = credit_note_xml(note)
    assert problems(xml) == []
    assert texts(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert texts(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["F-2026-0001"]
    assert texts(xml, SUMMATION + "GrandTotalAmount") == [str(note.totals.total)] == ["26.36"]


def test_a_credit_note_of_the_whole_invoice_with_an_amount_discount_is_valid():
    invoice = issued(discount={"kind": "amount", "value": "100.00"})
    note = CreditNote.start(invoice, None, "Commande annulée", ISSUED_ON, SELLER, "AV-{YYYY}-{SEQ:4}")
    note.issue("AV-2026-0002")
    xml = credit_note_xml(note)
    assert problems(xml) == []
    assert texts(xml, SUMMATION + "GrandTotalAmount") == [str(invoice.totals.total)]


def test_a_buyer_without_a_vat_number_has_no_tax_registration():
    buyer = {key: value for key, value in BUYER.items() if key != "vat_number"}
    xml = invoice_xml(issued_with(buyer=buyer))
    assert problems(xml) == []
    assert texts(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == []
    assert texts(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["FR44732829320"]


def test_awkward_characters_in_names_and_descriptions_are_kept_exactly():
    seller = {**SELLER, "name": "Dupont & Fils <SARL> « Événements » 🎉"}
    buyer = {**BUYER, "company": "L'Atelier \"Ça & Là\" <b>😀</b>", "address": {**BUYER["address"],
                                                                                   "city": "Saint-Étienne"}}
    line = {**WEB_DAYS, "description": "Création & mise en ligne <site> — ½ journée ☕ 𝔘"}
    xml = invoice_xml(issued_with(lines=(line, BOOKS), buyer=buyer, seller=seller, notes="Merci & à bientôt <3"))
    assert problems(xml) == []
    assert texts(xml, "//ram:SellerTradeParty/ram:Name") == [seller["name"]]
    assert texts(xml, "//ram:BuyerTradeParty/ram:Name") == [buyer["company"]]
    assert texts(xml, "//ram:BuyerTradeParty//ram:CityName") == ["Saint-Étienne"]
    assert texts(xml, "//ram:SpecifiedTradeProduct/ram:Name")[0] == line["description"]
    assert texts(xml, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content") == ["Merci & à bientôt <3"]


def test_line_discounts_zero_rated_and_exempt_lines_are_valid():
    lines = (
        {**WEB_DAYS, "quantity": "2.5", "unit": "h", "discount": {"kind": "percent", "value": "12.5"}},
        {"description": "Export", "quantity": "3", "unit": "kg", "unit_price": "19.999",
         "taxes": [{"category": "Z", "rate": "0"}], "discount": {"kind": "amount", "value": "0.50"}},
        {"description": "Formation", "quantity": "1", "unit": "forfait", "unit_price": "800",
         "taxes": [{"category": "E", "rate": "0"}]},
    )
    invoice = issued_with(lines=lines, discount={"kind": "amount", "value": "33.33"})
    xml = invoice_xml(invoice)
    assert problems(xml) == []
    assert texts(xml, "//ram:BilledQuantity/@unitCode") == ["HUR", "KGM", "LS"]
    assert texts(xml, SUMMATION + "GrandTotalAmount") == [str(invoice.totals.total)]


def test_prices_including_tax_give_a_valid_invoice_with_the_gross_kept():
    lines = ({**WEB_DAYS, "unit_price": "540.00"}, {**BOOKS, "unit_price": "26.37", "quantity": "3"})
    invoice = issued_with(lines=lines, prices_include_tax=True, discount={"kind": "percent", "value": "5"})
    xml = invoice_xml(invoice)
    assert problems(xml) == []
    assert texts(xml, SUMMATION + "GrandTotalAmount") == [str(invoice.totals.total)]


@pytest.mark.parametrize("category, rate", [("AE", "0"), ("G", "0"), ("O", "0"), ("L", "7"), ("M", "4")])
def test_reverse_charge_export_outside_the_scope_and_other_rated_categories_are_valid(category, rate):
    buyer = {**BUYER, "vat_number": "DE136695976", "address": {**BUYER["address"], "country": "DE"}}
    xml = invoice_xml(issued_with(lines=({**WEB_DAYS, "taxes": [{"category": category, "rate": rate}]},), buyer=buyer))
    assert problems(xml) == []
    if category == "O":  # BR-O-02: no VAT number on either side
        assert texts(xml, "//ram:SpecifiedTaxRegistration/ram:ID") == []


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.decimals("0.0001", "500", places=4), st.decimals("0", "9999.99", places=2),
                          st.sampled_from([("S", "20"), ("S", "5.5"), ("S", "10"), ("Z", "0"), ("E", "0")]),
                          st.one_of(st.none(), st.decimals("0", "100", places=2).map(str))),
                min_size=1, max_size=5),
       st.one_of(st.none(), st.decimals("0", "50", places=2).map(lambda v: {"kind": "percent", "value": str(v)}),
                 st.decimals("0", "100", places=2).map(lambda v: {"kind": "amount", "value": str(v)})),
       st.booleans())
def test_any_issued_invoice_is_a_valid_en16931_invoice(rows, discount, prices_include_tax):
    lines = [{"description": f"line {i}", "quantity": str(quantity), "unit": "", "unit_price": str(price),
              "taxes": [{"category": category, "rate": rate}],
              **({"discount": {"kind": "percent", "value": off}} if off is not None else {})}
             for i, (quantity, price, (category, rate), off) in enumerate(rows)]
    try:
        invoice = issued_with(lines=lines, discount=discount, prices_include_tax=prices_include_tax)
    except InvalidInput:  # a discount larger than the lines, a total of 0
        assume(False)
    xml = invoice_xml(invoice)
    assert problems(xml) == []
    assert texts(xml, SUMMATION + "TaxTotalAmount") == [f"{invoice.totals.tax_total:.2f}"]


@pytest.mark.parametrize("break_it, rule", [
    (lambda root: _remove(root, "//ram:SellerTradeParty/ram:Name"), "BR-06"),
    (lambda root: _remove(root, "//ram:BuyerTradeParty/ram:PostalTradeAddress"), "BR-10"),
    (lambda root: _set(root, SUMMATION + "GrandTotalAmount", "1505.46"), "BR-CO-15"),
    (lambda root: _set(root, "//ram:IncludedSupplyChainTradeLineItem[1]//ram:LineTotalAmount", "1350.01"),
     "BR-CO-10"),
    (lambda root: _set(root, "//ram:BuyerTradeParty//ram:CountryID", "ZZ"), "FX-SCH-A-000568"),  # BR-CL-14
])
def test_the_validation_finds_a_broken_invoice(break_it, rule):
    root = etree.fromstring(invoice_xml(issued(discount={"kind": "percent", "value": "10"})))
    break_it(root)
    broken = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert rule in {finding.rule for finding in schematron_findings(broken)}
    assert problems(broken)


def test_a_required_element_missing_is_an_xsd_error():
    root = etree.fromstring(invoice_xml(issued()))
    _remove(root, "//rsm:ExchangedDocument/ram:TypeCode")
    assert any("TypeCode" in problem for problem in problems(etree.tostring(root)))


def test_drafts_and_unfinished_documents_have_no_e_invoice():
    with pytest.raises(DocumentNotIssued) as raised:
        invoice_xml(draft())
    assert raised.value.status == 409
    issuing = draft()
    issuing.start_issue(None, ISSUED_ON, "contact:1", BUYER, SELLER, "F-{YYYY}-{SEQ:4}")
    with pytest.raises(DocumentNotIssued):
        invoice_xml(issuing)
    note = CreditNote.start(issued(), None, "Annulée", ISSUED_ON, SELLER, "AV-{YYYY}-{SEQ:4}")
    with pytest.raises(DocumentNotIssued):
        credit_note_xml(note)


@pytest.mark.parametrize("seller, buyer, currency, field", [
    ({**SELLER, "address": {"city": "Paris"}}, BUYER, "EUR", "seller.address.country"),
    ({key: value for key, value in SELLER.items() if key != "vat_number"}, BUYER, "EUR", "seller.vat_number"),
    (SELLER, {"name": "Louise Martin"}, "EUR", "buyer.address.country"),
    (SELLER, BUYER, "KWD", "currency"),
    (SELLER, {**BUYER, "vat_number": None}, "EUR", "buyer.vat_number"),
    (SELLER, BUYER, "EUR", "lines"),
])
def test_what_en16931_requires_and_the_document_lacks_is_named(seller, buyer, currency, field):
    category = {"buyer.vat_number": "AE", "lines": "K"}.get(field, "S")
    line = {**WEB_DAYS, "taxes": [{"category": category, "rate": "20" if category == "S" else "0"}]}
    with pytest.raises(NotAnEInvoice) as raised:
        invoice_xml(issued_with(lines=(line,), seller=seller, buyer=buyer, currency=currency))
    assert raised.value.extra["field"] == field and raised.value.status == 409


def _remove(root, path: str) -> None:
    for node in root.xpath(path, namespaces=NS):
        node.getparent().remove(node)


def _set(root, path: str, value: str) -> None:
    for node in root.xpath(path, namespaces=NS):
        node.text = value



def test_a_restricted_invoice_keeps_its_legal_terms_but_not_its_free_text_notes():
    """Its person erased, the invoice is kept for the law: it prints without its notes, and so does its XML."""
    from datetime import date

    invoice = issued_with(notes="Rappeler Mme Durand au 06 12 34 56 78", legal_terms="Pénalités de retard : 3 fois")
    assert "Rappeler Mme Durand au 06 12 34 56 78" in texts(
        invoice_xml(invoice), "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content")
    invoice.restrict_processing("2036-12-31", "Code de commerce L123-22", date(2026, 12, 3))
    xml = invoice_xml(invoice)
    assert texts(xml, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content") == ["Pénalités de retard : 3 fois"]
    assert b"Durand" not in xml and problems(xml) == []
