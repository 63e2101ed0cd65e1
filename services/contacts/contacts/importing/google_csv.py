"""Google Contacts CSV: recognising its columns (current and older export) and writing the current one.

Current: "First Name", "Organization Name", "Labels", "E-mail 1 - Label",
"E-mail 1 - Value", "Phone 1 - Label", "Address 1 - Street"... Older:
"Given Name", "Family Name", "Group Membership", "E-mail 1 - Type",
"Organization 1 - Name"... Labels hold several values split by ' ::: '.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

from contacts.importing.cell_values import GOOGLE_SEPARATOR
from contacts.importing.countries import country_name
from contacts.importing.csv_output import CsvStyle, csv_chunks
from contacts.importing.folding import fold
from contacts.importing.hints import IGNORED, ColumnHint
from contacts.importing.layout import ExportLayout

_TEXT = {
    "first name": "first_name", "given name": "first_name", "last name": "last_name", "family name": "last_name",
    "organization name": "company", "organization 1 name": "company",
    "organization title": "job_title", "organization 1 title": "job_title",
    "organization department": "department", "organization 1 department": "department",
    "labels": "labels", "group membership": "labels", "notes": "note",
}
_NUMBERED = re.compile(r"^(e mail|phone|address|website) (\d+) (.+)$")
_PARTS = {
    "e mail": {"label": "email.tag", "type": "email.tag", "value": "email"},
    "phone": {"label": "phone.tag", "type": "phone.tag", "value": "phone"},
    "website": {"value": "website"},
    "address": {"label": "address.tag", "type": "address.tag", "street": "address.street",
                "extended address": "address.street2", "po box": "address.street3", "city": "address.city",
                "region": "address.region", "postal code": "address.postal_code", "country": "address.country"},
}
_ADDRESS_COLUMNS = ("Label", "Formatted", "Street", "City", "PO Box", "Region", "Postal Code", "Country",
                    "Extended Address")
_EMAIL_LABELS = {"main": "", "home": "Home", "work": "Work", "other": "Other"}
_PHONE_LABELS = {"main": "Main", "home": "Home", "work": "Work", "mobile": "Mobile", "direct_line": "Work",
                 "fax": "Work Fax", "other": "Other"}
_ADDRESS_LABELS = {"home": "Home", "work": "Work", "billing": "Other", "shipping": "Other", "other": "Other"}


def google_hint(header: str) -> ColumnHint | None:
    """The hint for a Google column ('E-mail 2 - Value' -> email, group 2); IGNORED for known unused ones."""
    folded = fold(header)
    if folded in _TEXT:
        return ColumnHint(_TEXT[folded])
    match = _NUMBERED.match(folded)
    if not match:
        return None
    kind, number, part = match.groups()
    target = _PARTS[kind].get(part)
    # the same group as our own "Address 1 city": both formats number entries alike
    return ColumnHint(target, group=("numbered", int(number))) if target else IGNORED


def google_header(layout: ExportLayout) -> list[str]:
    """The columns Google's current export has for the fields we write, with the layout's entry counts."""
    header = ["First Name", "Middle Name", "Last Name", "Organization Name", "Organization Title",
              "Organization Department", "Labels"]
    for n in range(1, layout.emails + 1):
        header += [f"E-mail {n} - Label", f"E-mail {n} - Value"]
    for n in range(1, layout.phones + 1):
        header += [f"Phone {n} - Label", f"Phone {n} - Value"]
    for n in range(1, layout.addresses + 1):
        header += [f"Address {n} - {part}" for part in _ADDRESS_COLUMNS]
    for n in range(1, layout.websites + 1):
        header += [f"Website {n} - Label", f"Website {n} - Value"]
    return header


def write_google_csv(contacts: Iterable[dict], layout: ExportLayout, excel_fr: bool = False) -> Iterator[bytes]:
    """Contacts as a Google Contacts CSV (current format), in chunks; no custom fields, codes or VAT numbers."""
    rows = (_google_row(contact, layout) for contact in contacts)
    return csv_chunks(google_header(layout), rows, CsvStyle.of(excel_fr))


def _google_row(contact: dict, layout: ExportLayout) -> list[str]:
    layout.check_fits(contact)
    row = [contact.get("first_name", ""), "", contact.get("last_name", ""), contact.get("company", ""),
           contact.get("job_title", ""), contact.get("department", ""),
           GOOGLE_SEPARATOR.join(["* myContacts", *contact.get("labels", [])])]
    emails, phones = contact.get("emails") or [], contact.get("phones") or []
    addresses, websites = contact.get("addresses") or [], contact.get("websites") or []
    for n in range(layout.emails):
        email = emails[n] if n < len(emails) else None
        row += [_EMAIL_LABELS[email["tag"]], email["address"]] if email else ["", ""]
    for n in range(layout.phones):
        phone = phones[n] if n < len(phones) else None
        row += [_PHONE_LABELS[phone["tag"]], phone["number"]] if phone else ["", ""]
    for n in range(layout.addresses):
        row += _address_cells(addresses[n]) if n < len(addresses) else [""] * 9
    for n in range(layout.websites):
        row += ["", websites[n]] if n < len(websites) else ["", ""]
    return row


def _address_cells(address: dict) -> list[str]:
    country = country_name(address["country"]) if address.get("country") else ""
    return [_ADDRESS_LABELS[address["tag"]], "", "\n".join(address.get("street") or []), address.get("city", ""), "",
            address.get("region", ""), address.get("postal_code", ""), country, ""]
