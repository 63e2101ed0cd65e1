"""The seller's legal identity on its documents: name, address, SIREN/SIRET, VAT number, IBAN/BIC.

Each number is checked with python-stdnum (format and check digits) and stored in its compact form.
"""
from __future__ import annotations

from babel import Locale
from stdnum import bic, iban
from stdnum.eu import vat
from stdnum.exceptions import ValidationError
from stdnum.fr import siren, siret

from crm_platform.errors import InvalidInput

NUMBERS = {
    "siren": (siren, "a SIREN: 9 digits with a valid check digit"),
    "siret": (siret, "a SIRET: 14 digits with a valid check digit"),
    "vat_number": (vat, "an EU VAT number with its country prefix, e.g. FR40303265045"),
    "iban": (iban, "an IBAN with a valid checksum"),
    "bic": (bic, "a BIC (SWIFT code) of 8 or 11 characters"),
}
TEXTS = {"name": 200, "email": 254, "phone": 40}
ADDRESS_TEXTS = {"postal_code": 20, "city": 100, "region": 100}
MAX_STREET_LINES = 3
COUNTRIES = frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())
FIELDS = (*NUMBERS, *TEXTS, "address")


def merged(current: dict, changes) -> dict:
    """The seller after `changes` (key by key; null clears one); InvalidInput naming each bad `seller.<field>`."""
    if not isinstance(changes, dict):
        raise InvalidInput("not an object", errors={"seller": ["an object"]})
    errors: dict[str, list[str]] = {}
    seller = dict(current)
    for name, value in changes.items():
        where = f"seller.{name}"
        if name not in FIELDS:
            errors[where] = ["unknown field"]
        elif value is None or value == "":
            seller.pop(name, None)
        elif name in NUMBERS:
            module, expected = NUMBERS[name]
            try:
                if not isinstance(value, str):
                    raise ValidationError()
                seller[name] = module.validate(value)
            except ValidationError:
                errors[where] = [f"not {expected}"]
        elif name in TEXTS:
            if not isinstance(value, str) or len(value.strip()) > TEXTS[name]:
                errors[where] = [f"a text of at most {TEXTS[name]} characters"]
            else:
                seller[name] = " ".join(value.split())
        else:
            seller[name] = _address(value, errors)
    if not errors and "siren" in seller and "siret" in seller and not seller["siret"].startswith(seller["siren"]):
        errors["seller.siret"] = ["a SIRET of another company than the SIREN (its first 9 digits are the SIREN)"]
    if errors:
        raise InvalidInput("the seller's legal identity is not valid", errors=errors)
    return seller


def _address(value, errors: dict) -> dict:
    if not isinstance(value, dict):
        errors["seller.address"] = ["an object: street (lines), postal_code, city, region, country"]
        return {}
    address: dict = {}
    for name, item in value.items():
        where = f"seller.address.{name}"
        if item is None:
            continue
        if name == "street":
            if (not isinstance(item, list) or len(item) > MAX_STREET_LINES
                    or not all(isinstance(line, str) and len(line) <= 200 for line in item)):
                errors[where] = [f"a list of at most {MAX_STREET_LINES} lines of 200 characters"]
            else:
                address["street"] = [" ".join(line.split()) for line in item if line.strip()]
        elif name == "country":
            code = item.strip().upper() if isinstance(item, str) else ""
            if code not in COUNTRIES:
                errors[where] = ["an ISO 3166-1 alpha-2 country code, e.g. FR"]
            else:
                address["country"] = code
        elif name in ADDRESS_TEXTS:
            if not isinstance(item, str) or len(item) > ADDRESS_TEXTS[name]:
                errors[where] = [f"a text of at most {ADDRESS_TEXTS[name]} characters"]
            else:
                address[name] = " ".join(item.split())
        else:
            errors[where] = ["unknown field"]
    return address
