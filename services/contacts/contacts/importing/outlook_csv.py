"""Outlook CSV: its fixed columns, read back as mapping hints and written from our contacts.

Outlook has no numbered entries: three email columns, one column per kind of
phone, and Business/Home/Other addresses. The writer puts each entry in the
first free column of its tag and drops what does not fit (documented limit).
"""
from __future__ import annotations

from typing import Iterable, Iterator

from contacts.importing.countries import country_name
from contacts.importing.csv_output import CsvStyle, csv_chunks
from contacts.importing.folding import fold
from contacts.importing.hints import IGNORED, ColumnHint

_ADDRESS_PARTS = (("Street", "street"), ("Street 2", "street2"), ("Street 3", "street3"), ("City", "city"),
                  ("State", "region"), ("Postal Code", "postal_code"), ("Country/Region", "country"))
_ADDRESS_BLOCKS = (("Business", "work"), ("Home", "home"), ("Other", "other"))
# phone columns in the order the writer fills them, with the tags each takes
PHONE_COLUMNS = (
    ("Primary Phone", "main", ("main",)), ("Business Phone", "work", ("work", "direct_line")),
    ("Business Phone 2", "work", ("work", "direct_line")), ("Home Phone", "home", ("home",)),
    ("Home Phone 2", "home", ("home",)), ("Mobile Phone", "mobile", ("mobile",)),
    ("Business Fax", "fax", ("fax",)), ("Home Fax", "fax", ("fax",)), ("Other Phone", "other", ("other",)),
    ("Company Main Phone", "main", ("main",)), ("Other Fax", "fax", ("fax",)), ("Car Phone", "mobile", ("mobile",)),
    ("Assistant's Phone", "other", ("other",)), ("Pager", "other", ()), ("Callback", "other", ()),
    ("Radio Phone", "other", ()),
)
EMAIL_COLUMNS = ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address")
_TEXT = {"First Name": "first_name", "Last Name": "last_name", "Company": "company", "Department": "department",
         "Job Title": "job_title", "Categories": "labels", "Web Page": "website"}
_UNUSED = (  # known Outlook columns we do not import; listed so synonyms do not misread them
    "Title", "Middle Name", "Suffix", "E-mail Type", "E-mail Display Name", "E-mail 2 Type", "E-mail 2 Display Name",
    "E-mail 3 Type", "E-mail 3 Display Name", "Notes", "ISDN", "Telex", "TTY/TDD Phone", "Account", "Anniversary",
    "Assistant's Name", "Billing Information", "Birthday", "Business Address PO Box", "Home Address PO Box",
    "Other Address PO Box", "Children", "Directory Server", "Gender", "Government ID Number", "Hobby", "Initials",
    "Internet Free Busy", "Keywords", "Language", "Location", "Manager's Name", "Mileage", "Office Location",
    "Organizational ID Number", "Priority", "Private", "Profession", "Referred By", "Sensitivity", "Spouse",
    "User 1", "User 2", "User 3", "User 4", "Business Address", "Home Address", "Other Address",
)


def _hints() -> dict[str, ColumnHint]:
    hints = {name: ColumnHint(target, group=("outlook", 1) if target == "website" else None)
             for name, target in _TEXT.items()}
    for slot, (block, tag) in enumerate(_ADDRESS_BLOCKS, start=1):
        for part, target in _ADDRESS_PARTS:
            hints[f"{block} {part}"] = ColumnHint(f"address.{target}", group=("outlook", slot), tag=tag)
    for slot, name in enumerate(EMAIL_COLUMNS, start=1):
        hints[name] = ColumnHint("email", group=("outlook", slot))
    for slot, (name, tag, _) in enumerate(PHONE_COLUMNS, start=1):
        hints[name] = ColumnHint("phone", group=("outlook", slot), tag=tag)
    hints.update({name: IGNORED for name in _UNUSED})
    return {fold(name): hint for name, hint in hints.items()}


_HINTS = _hints()
HEADER = ["First Name", "Middle Name", "Last Name", "Title", "Suffix", "Company", "Department", "Job Title",
          *(f"{block} {part}" for block, _ in _ADDRESS_BLOCKS for part, _ in _ADDRESS_PARTS),
          *(name for name, _, takes in PHONE_COLUMNS if takes), "Categories", *EMAIL_COLUMNS, "Web Page"]


def outlook_hint(header: str) -> ColumnHint | None:
    """The hint for an Outlook column ('Business Fax' -> phone tagged fax); IGNORED for known unused ones."""
    return _HINTS.get(fold(header))


def write_outlook_csv(contacts: Iterable[dict], excel_fr: bool = False) -> Iterator[bytes]:
    """Contacts as an Outlook CSV, in chunks: at most 3 emails, phones and addresses by tag, one website."""
    return csv_chunks(HEADER, (_outlook_row(contact) for contact in contacts), CsvStyle.of(excel_fr))


def _outlook_row(contact: dict) -> list[str]:
    cells = {"First Name": contact.get("first_name", ""), "Last Name": contact.get("last_name", ""),
             "Company": contact.get("company", ""), "Department": contact.get("department", ""),
             "Job Title": contact.get("job_title", ""), "Categories": ";".join(contact.get("labels", [])),
             "Web Page": (contact.get("websites") or [""])[0]}
    emails = sorted(contact.get("emails") or [], key=lambda email: not email["primary"])
    cells.update(zip(EMAIL_COLUMNS, (email["address"] for email in emails)))
    for phone in contact.get("phones") or []:
        free = next((name for name, _, takes in PHONE_COLUMNS if phone["tag"] in takes and name not in cells), None)
        if free:
            cells[free] = phone["number"]
    for address in contact.get("addresses") or []:
        block = next((b for b, tag in _ADDRESS_BLOCKS if tag == address["tag"] and f"{b} Street" not in cells), None)
        block = block or next((b for b, _ in _ADDRESS_BLOCKS if f"{b} Street" not in cells), None)
        if block:
            cells.update(_address_cells(block, address))
    return [cells.get(name, "") for name in HEADER]


def _address_cells(block: str, address: dict) -> dict[str, str]:
    street = (address.get("street") or []) + ["", "", ""]
    country = country_name(address["country"]) if address.get("country") else ""
    return {f"{block} Street": street[0], f"{block} Street 2": street[1], f"{block} Street 3": street[2],
            f"{block} City": address.get("city", ""), f"{block} State": address.get("region", ""),
            f"{block} Postal Code": address.get("postal_code", ""), f"{block} Country/Region": country}
