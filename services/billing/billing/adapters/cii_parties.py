"""The seller, the buyer and the codes of an EN 16931 Cross Industry Invoice (cross_industry_invoice.py builds it).

The parties come from the document's frozen snapshots: the seller's legal identity as the account's settings held it
at issue (domain/seller_identity.py), the buyer as billing's projection of the contact held it (name, company,
VAT number, billing address). What EN 16931 requires and a snapshot lacks is refused with NotAnEInvoice naming the
field, rather than sent as an e-invoice every receiving platform rejects.
"""
from __future__ import annotations

from drafthorse.models.party import BuyerTradeParty, SellerTradeParty, TaxRegistration, TradeParty

from billing.domain.errors import NotAnEInvoice

# ISO/IEC 6523 ICD of the French SIRENE register (SIREN; a SIRET's first 9 digits are its SIREN).
SIRENE_SCHEME = "0002"
# Units as people type them -> UN/ECE Recommendation 20 codes (BT-130). Anything else is "one" (C62): the
# description still says what was sold.
UNIT_CODES = {
    "": "C62", "unit": "C62", "units": "C62", "u": "C62", "pc": "H87", "pcs": "H87", "piece": "H87",
    "pieces": "H87", "h": "HUR", "hr": "HUR", "hour": "HUR", "hours": "HUR", "heure": "HUR", "heures": "HUR",
    "min": "MIN", "minute": "MIN", "minutes": "MIN", "d": "DAY", "day": "DAY", "days": "DAY", "j": "DAY",
    "jour": "DAY", "jours": "DAY", "week": "WEE", "weeks": "WEE", "semaine": "WEE", "month": "MON",
    "months": "MON", "mois": "MON", "year": "ANN", "years": "ANN", "an": "ANN", "ans": "ANN", "kg": "KGM",
    "g": "GRM", "t": "TNE", "m": "MTR", "km": "KMT", "cm": "CMT", "m2": "MTK", "m²": "MTK", "m3": "MTQ",
    "m³": "MTQ", "l": "LTR", "litre": "LTR", "liter": "LTR", "kwh": "KWH", "lump sum": "LS", "forfait": "LS",
}
# VAT categories other than S, Z, L and M need an exemption reason in the VAT breakdown (BR-E-10, BR-AE-10,
# BR-IC-10, BR-G-10, BR-O-10): the VATEX code where one code fits every case, and a text.
EXEMPTION_REASONS = {
    "E": (None, "Exempt from VAT"),
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "K": ("VATEX-EU-IC", "Intra-Community supply"),
    "G": ("VATEX-EU-G", "Export outside the EU"),
    "O": ("VATEX-EU-O", "Not subject to VAT"),
}


def unit_code(unit: str) -> str:
    """The Recommendation 20 code of a line's unit as typed ("h" -> HUR); C62 ("one") when it is not known."""
    return UNIT_CODES.get(" ".join(unit.lower().split()), "C62")


def fill_seller(party: SellerTradeParty, seller: dict, document_id: str, *, with_vat_number: bool) -> None:
    """BG-4: name, SIREN as legal registration (scheme 0002), postal address, e-mail, VAT number (BT-31)."""
    party.name = _required(seller.get("name"), "seller.name", document_id)
    siren = seller.get("siren") or (seller.get("siret") or "")[:9]
    if siren:
        party.legal_organization.id = (SIRENE_SCHEME, siren)
    _address(party, seller.get("address") or {}, "seller.address", document_id)
    if seller.get("email"):
        party.electronic_address.uri_ID = (seller["email"], "EM")
    if with_vat_number:
        vat_number = _required(seller.get("vat_number"), "seller.vat_number", document_id)
        party.tax_registrations.add(TaxRegistration(id=("VA", vat_number)))


def fill_buyer(party: BuyerTradeParty, buyer: dict, document_id: str, *, with_vat_number: bool) -> None:
    """BG-7: the company (else the person's name), postal address, VAT number (BT-48) if the buyer has one."""
    party.name = _required(buyer.get("company") or buyer.get("name"), "buyer.name", document_id)
    _address(party, buyer.get("address") or {}, "buyer.address", document_id)
    if with_vat_number and buyer.get("vat_number"):
        party.tax_registrations.add(TaxRegistration(id=("VA", buyer["vat_number"])))


def _address(party: TradeParty, address: dict, field: str, document_id: str) -> None:
    """BG-5 / BG-8: up to three street lines, postcode, city, region; the country is required (BR-9, BR-11)."""
    street = address.get("street") or []
    if isinstance(street, str):
        street = [street]
    for attribute, line in zip(("line_one", "line_two", "line_three"), street):
        setattr(party.address, attribute, line)
    if address.get("postal_code"):
        party.address.postcode = address["postal_code"]
    if address.get("city"):
        party.address.city_name = address["city"]
    if address.get("region"):
        party.address.country_subdivision = address["region"]
    party.address.country_id = _required(address.get("country"), f"{field}.country", document_id).upper()


def _required(value: object, field: str, document_id: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise NotAnEInvoice(document_id, field, "is missing; EN 16931 requires it")
    return value.strip()

