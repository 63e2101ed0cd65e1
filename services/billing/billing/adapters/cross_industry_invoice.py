"""The EN 16931 e-invoice of an issued invoice or credit note: UN/CEFACT Cross Industry Invoice XML, Factur-X profile
EN 16931 (guideline urn:cen.eu:en16931:2017), the `factur-x.xml` a Factur-X PDF carries (factur_x_pdf.py).

A pure function of the frozen document: the same document gives the same bytes. Every amount is the document's own
(Totals, Decimal, rounded to the minor unit by totals.py), never computed again here, so the XML's totals are the
invoice's to the cent and the EN 16931 rules that tie them together hold:
  BT-131 line net = Totals.line_nets[i]; a line discount is a line allowance (BG-27) of quantity x price rounded,
         less the line net;
  BT-106 = Totals.net_total (BR-CO-10); the document discount is one allowance (BG-20) per VAT category and rate:
         the lines' nets of that rate less the taxable base of the row (BR-S-08...); their sum is BT-107 (BR-CO-11);
  BG-23  = Totals.tax_breakdown (BT-116 base, BT-117 tax); BT-109 = net - discount (BR-CO-13); BT-110 (BR-CO-14);
  BT-112 = Totals.total (BR-CO-15); BT-115 due = BT-112 (the document as issued: payments are not part of it).
Credit notes (type code 381) carry positive amounts and reference the invoice they credit (BG-3).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from drafthorse.models.accounting import ApplicableTradeTax, CategoryTradeTax, TradeAllowanceCharge
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

from billing.adapters.cii_parties import EXEMPTION_REASONS, fill_buyer, fill_seller, unit_code
from billing.domain.credit_notes import CreditNote
from billing.domain.errors import DocumentNotIssued, NotAnEInvoice
from billing.domain.invoices import Invoice
from billing.domain.money import minor_unit, minor_units, money_text
from billing.domain.payment_terms import PaymentTerm
from billing.domain.totals import TaxSubtotal, Totals

GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"
INVOICE_TYPE_CODE = "380"  # UNTDID 1001: commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # UNTDID 1001: credit note
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
DISCOUNT_REASON = ("95", "Discount")  # UNTDID 5189 code and text (BR-33, BR-41: a reason is required)
XSD_NAME = "FACTUR-X_EN16931"  # drafthorse checks its output against this XSD as it serializes


@dataclass(frozen=True)
class _Frozen:
    """What both kinds of document give the XML."""

    document_id: str
    number: str
    type_code: str
    issued_on: date
    currency: str
    lines: list[dict]
    totals: Totals
    prices_include_tax: bool
    seller: dict
    buyer: dict
    notes: tuple[str, ...]
    due_on: date | None = None
    payment_term: dict | None = None
    period: dict | None = None  # BG-14 {start, end} ISO dates
    credited_invoice_number: str | None = None

    def money(self, amount: Decimal) -> Decimal:
        """An amount of the document's currency written with its minor unit: 1350 -> 1350.00 (already rounded)."""
        return _plain(amount.quantize(minor_unit(self.currency)))


def e_invoice_xml(document: Invoice | CreditNote) -> bytes | None:
    """The EN 16931 XML an issued invoice's or credit note's PDF embeds (Factur-X); None for one EN 16931 cannot
    describe (NotAnEInvoice: its PDF stays a plain PDF/A-3b, and GET .../xml says why) or not issued."""
    try:
        return credit_note_xml(document) if isinstance(document, CreditNote) else invoice_xml(document)
    except (NotAnEInvoice, DocumentNotIssued):
        return None


def invoice_xml(invoice: Invoice) -> bytes:
    """The CII XML (type code 380) of an issued (or since voided) invoice; DocumentNotIssued before its number."""
    if invoice.number is None:
        raise DocumentNotIssued("invoice", invoice.id, invoice.stage)
    draft = invoice.draft
    return _xml(_Frozen(
        invoice.id, invoice.number, INVOICE_TYPE_CODE, invoice.issued_on_date, invoice.currency, draft["lines"],
        invoice.totals, draft["prices_include_tax"], invoice.seller, invoice.buyer,
        # a restricted invoice (its person erased, kept for the law) keeps no free-text notes, as it prints
        tuple(text for text in (None if invoice.retain_until is not None else draft.get("notes"),
                                draft.get("legal_terms")) if text),
        date.fromisoformat(invoice.due_on), draft["payment_term"], draft.get("period")))


def credit_note_xml(note: CreditNote) -> bytes:
    """The CII XML (type code 381) of an issued credit note, referencing the invoice it credits."""
    if not note.issued:
        raise DocumentNotIssued("credit_note", note.id, note.status)
    started = note.started
    return _xml(_Frozen(
        note.id, note.number, CREDIT_NOTE_TYPE_CODE, note.issued_on, started.currency, note.lines, note.totals,
        started.prices_include_tax, started.seller, started.buyer, (started.reason,),
        credited_invoice_number=started.invoice_number))


def _xml(frozen: _Frozen) -> bytes:
    if minor_units(frozen.currency) > 2:  # BR-DEC-*: EN 16931 amounts have at most 2 decimals
        raise NotAnEInvoice(frozen.document_id, "currency",
                            f"{frozen.currency} has {minor_units(frozen.currency)} decimals; EN 16931 allows 2")
    categories = {row.category for row in frozen.totals.tax_breakdown}
    if "O" in categories and len(frozen.totals.tax_breakdown) > 1:  # BR-O-11
        raise NotAnEInvoice(frozen.document_id, "lines", "mix outside-the-scope (O) and other VAT categories")
    outside_vat = categories == {"O"}  # BR-O-02: no VAT number then
    if "AE" in categories and not frozen.buyer.get("vat_number"):  # BR-AE-02
        raise NotAnEInvoice(frozen.document_id, "buyer.vat_number", "is missing; reverse charge (AE) requires it")
    if "K" in categories:  # BR-IC-11, BR-IC-12: billing records no delivery date nor deliver-to country yet
        raise NotAnEInvoice(frozen.document_id, "lines", "hold an intra-community supply (K), which needs the delivery "
                                                         "date and country; billing does not record them yet")
    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE_EN16931
    doc.header.id = frozen.number
    doc.header.type_code = frozen.type_code
    doc.header.issue_date_time = frozen.issued_on
    for text in frozen.notes:
        doc.header.notes.add(IncludedNote(content=text))
    agreement = doc.trade.agreement
    fill_seller(agreement.seller, frozen.seller, frozen.document_id, with_vat_number=not outside_vat)
    fill_buyer(agreement.buyer, frozen.buyer, frozen.document_id, with_vat_number=not outside_vat)
    for position, (line, net) in enumerate(zip(frozen.lines, frozen.totals.line_nets), start=1):
        doc.trade.items.add(_line_item(frozen, position, line, net))
    _settlement(doc, frozen)
    return doc.serialize(schema=XSD_NAME)


def _line_item(frozen: _Frozen, position: int, line: dict, net: Decimal) -> LineItem:
    """BG-25: BT-131 is the document's own line net; BT-146 the price without tax."""
    tax = _line_vat(frozen, position, line)
    quantity, unit = Decimal(line["quantity"]), minor_unit(frozen.currency)
    item = LineItem()
    item.document.line_id = str(position)
    item.product.name = line["description"]
    code = unit_code(line.get("unit") or "")
    item.delivery.billed_quantity = (_plain(quantity), code)
    if frozen.prices_include_tax:  # the line net was derived from the gross entered: its price is net / quantity
        item.agreement.net.amount = _plain((net / quantity).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))
    else:
        item.agreement.net.amount = _plain(Decimal(line["unit_price"]))
        allowance = (quantity * Decimal(line["unit_price"])).quantize(unit, rounding=ROUND_HALF_UP) - net
        if allowance:
            charge = TradeAllowanceCharge()  # SpecifiedTradeAllowanceCharge (BG-27)
            charge.indicator = False
            charge.actual_amount = frozen.money(allowance)
            charge.reason_code, charge.reason = DISCOUNT_REASON
            item.settlement.allowance_charge.add(charge)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = tax["category"]
    if tax["category"] != "O":  # BR-O-05: no rate outside the scope of VAT
        item.settlement.trade_tax.rate_applicable_percent = _plain(Decimal(tax["rate"]))
    item.settlement.monetary_summation.total_amount = frozen.money(net)
    return item


def _line_vat(frozen: _Frozen, position: int, line: dict) -> dict:
    if len(line["taxes"]) != 1:
        raise NotAnEInvoice(frozen.document_id, f"lines.{position - 1}.taxes",
                            "hold more than one tax; an EN 16931 line has exactly one VAT")
    return line["taxes"][0]


def _settlement(doc: Document, frozen: _Frozen) -> None:
    """BG-16 payment means, BG-23 VAT breakdown, BG-14 period, BG-20 document allowances, BT-20/BT-9 terms, BG-22
    totals, BG-3."""
    settlement, totals, currency = doc.trade.settlement, frozen.totals, frozen.currency
    settlement.currency_code = currency
    if frozen.seller.get("iban"):
        means = PaymentMeans()
        means.type_code = SEPA_CREDIT_TRANSFER
        means.payee_account.iban = frozen.seller["iban"]
        if frozen.seller.get("bic"):
            means.payee_institution.bic = frozen.seller["bic"]
        settlement.payment_means.add(means)
    for row in totals.tax_breakdown:
        settlement.trade_tax.add(_vat_row(frozen, row))
    if frozen.period:  # BG-14: BT-73, BT-74 (format 102, as every date of the XML)
        settlement.period.start = date.fromisoformat(frozen.period["start"])
        settlement.period.end = date.fromisoformat(frozen.period["end"])
    for row, allowance in _document_allowances(frozen):
        charge = TradeAllowanceCharge()
        charge.indicator = False
        charge.actual_amount = frozen.money(allowance)
        charge.reason_code, charge.reason = DISCOUNT_REASON
        charge.trade_tax.add(CategoryTradeTax(type_code="VAT", category_code=row.category,
                                              **({} if row.category == "O" else
                                                 {"rate_applicable_percent": _plain(row.rate)})))
        settlement.allowance_charge.add(charge)
    terms = PaymentTerms()
    terms.description = _terms_text(frozen)
    if frozen.due_on is not None:
        terms.due = frozen.due_on
    settlement.terms.add(terms)
    summation = settlement.monetary_summation
    summation.line_total = frozen.money(totals.net_total)
    summation.allowance_total = frozen.money(totals.discount_total)
    summation.tax_basis_total = (frozen.money(totals.taxable_total), None)
    summation.tax_total = (frozen.money(totals.tax_total), currency)
    summation.grand_total = (frozen.money(totals.total), None)
    summation.due_amount = frozen.money(totals.total)
    if frozen.credited_invoice_number:
        settlement.invoice_referenced_document.issuer_assigned_id = frozen.credited_invoice_number


def _vat_row(frozen: _Frozen, row: TaxSubtotal) -> ApplicableTradeTax:
    tax = ApplicableTradeTax()
    tax.calculated_amount = frozen.money(row.amount)
    tax.type_code = "VAT"
    tax.basis_amount = frozen.money(row.base)
    tax.category_code = row.category
    if row.category in EXEMPTION_REASONS:
        code, text = EXEMPTION_REASONS[row.category]
        tax.exemption_reason = text
        if code:
            tax.exemption_reason_code = code
    if row.category != "O":
        tax.rate_applicable_percent = _plain(row.rate)
    return tax


def _document_allowances(frozen: _Frozen) -> list[tuple[TaxSubtotal, Decimal]]:
    """The document discount per VAT row: the nets of the row's lines less its taxable base (non-zero ones)."""
    nets: dict[tuple[str, Decimal], Decimal] = {}
    for line, net in zip(frozen.lines, frozen.totals.line_nets):
        tax = line["taxes"][0]
        key = (tax["category"], Decimal(tax["rate"]))
        nets[key] = nets.get(key, Decimal(0)) + net
    allowances = [(row, nets.get((row.category, row.rate), Decimal(0)) - row.base)
                  for row in frozen.totals.tax_breakdown]
    return [(row, allowance) for row, allowance in allowances if allowance]


def _terms_text(frozen: _Frozen) -> str:
    if frozen.credited_invoice_number:
        return f"Credit of invoice {frozen.credited_invoice_number}: deducted from its amount due"
    term = PaymentTerm.parse(frozen.payment_term)
    if term.kind == "on_receipt":
        return "Due on receipt"
    if term.kind == "net":
        return f"Net {term.days} days"
    if term.kind == "end_of_month":
        return f"End of month + {term.days} days" if term.days else "End of month"
    return f"Due on {term.on.isoformat()}"


def _plain(amount: Decimal) -> Decimal:
    """The same value written without an exponent (an xs:decimal): 1E+2 -> 100."""
    return Decimal(money_text(amount))
