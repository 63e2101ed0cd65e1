"""The parts of a contact and how each is checked and normalised.

Validation uses kept libraries (email-validator without DNS lookups,
phonenumbers, python-stdnum, pycountry): pure code, no I/O, so the domain
stays testable on its own. Errors name the field the way the API spells it
(`emails.0.address`), nested like marshmallow's, so clients see one format.
"""
from __future__ import annotations

import re

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

EMAIL_TAGS = ("main", "home", "work", "other")
SUBSCRIPTION_STATUSES = ("not_set", "pending", "subscribed", "unsubscribed")
DELIVERABILITY_STATUSES = ("not_set", "valid", "bounced", "spam_complaint", "inactive")
PHONE_TAGS = ("main", "home", "work", "mobile", "direct_line", "fax", "other")
ADDRESS_TAGS = ("home", "work", "billing", "shipping", "other")
TEXT_FIELDS = ("first_name", "last_name", "company", "job_title", "code")
MAX_ENTRIES = 50  # emails, phones, addresses and websites, each
MAX_STREET_LINES = 3
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


class FieldProblems:
    """Collects problems per field path, in the nested shape the API returns."""

    def __init__(self) -> None:
        self.errors: dict = {}

    def add(self, path: tuple, message: str) -> None:
        """A message at a field path; a field with both its own messages and its parts' keeps its own in `_schema`."""
        node = self.errors
        for part in path[:-1]:
            child = node.setdefault(str(part), {})
            if isinstance(child, list):  # messages of the field itself came first
                child = node[str(part)] = {"_schema": child}
            node = child
        leaf = node.setdefault(str(path[-1]), [])
        (leaf.setdefault("_schema", []) if isinstance(leaf, dict) else leaf).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)


def normalize_email_address(address: str, problems: FieldProblems, path: tuple) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        problems.add(path, str(exc))
        return address


def phone_e164(number: str, region: str, problems: FieldProblems, path: tuple) -> str | None:
    """The number in E.164 (+33320065126), read in `region` when it has no country code."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        problems.add(path, f"not a phone number: {exc}")
        return None
    if not phonenumbers.is_possible_number(parsed):
        problems.add(path, f"not a possible phone number in {phonenumbers.region_code_for_number(parsed) or region}")
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_vat(number: str, problems: FieldProblems) -> str:
    """An EU VAT number with its country prefix (FR40303265045), checked for that country's format."""
    try:
        return eu_vat.validate(number)
    except StdnumError as exc:
        problems.add(("vat_number",), f"not a valid EU VAT number ({exc}); start it with the country code, e.g. FR")
        return number


def check_country(code: str, problems: FieldProblems, path: tuple) -> str:
    code = code.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        problems.add(path, "not an ISO 3166-1 alpha-2 country code (e.g. FR, BE, CH)")
    return code


def check_url(url: str, problems: FieldProblems, path: tuple) -> str:
    url = url.strip()
    if not URL_PATTERN.match(url):
        problems.add(path, "not an http(s) URL")
    return url
