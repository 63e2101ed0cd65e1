"""The columns of our own CSV format: their names, and the mapping each name reads back as.

One definition serves the writer (standard_csv.py) and `suggest_mapping`, so
an export always maps back exactly.
"""
from __future__ import annotations

import re

from contacts.importing.folding import fold
from contacts.importing.hints import ColumnHint

TEXT_COLUMNS = (
    ("First name", "first_name"), ("Last name", "last_name"), ("Company", "company"), ("Job title", "job_title"),
    ("Function", "function"), ("Department", "department"), ("Code", "code"), ("VAT number", "vat_number"),
    ("Info email", "info_email"),
)
SLOT_COLUMNS = {
    "emails": (("Email {n}", "email"), ("Email {n} type", "email.tag"), ("Email {n} primary", "email.primary"),
               ("Email {n} subscription", "email.subscription_status"),
               ("Email {n} deliverability", "email.deliverability")),
    "phones": (("Phone {n}", "phone"), ("Phone {n} type", "phone.tag"), ("Phone {n} primary", "phone.primary")),
    "addresses": (("Address {n} type", "address.tag"), ("Address {n} street", "address.street"),
                  ("Address {n} street 2", "address.street2"), ("Address {n} street 3", "address.street3"),
                  ("Address {n} postal code", "address.postal_code"), ("Address {n} city", "address.city"),
                  ("Address {n} region", "address.region"), ("Address {n} country", "address.country")),
    "websites": (("Website {n}", "website"),),
}
LABELS_COLUMN = "Labels"
KEYED_NAME = re.compile(r"^(?P<name>.*?)\s*\[(?P<key>[a-z0-9][a-z0-9-]{0,63})\]$")
_BY_FOLDED_TEXT = {fold(name): target for name, target in (*TEXT_COLUMNS, (LABELS_COLUMN, "labels"))}
_SLOT_PATTERNS = [
    (re.compile("^" + fold(name.format(n=0)).replace("0", r"(\d+)") + "$"), target)
    for columns in SLOT_COLUMNS.values() for name, target in columns
]


def standard_hint(header: str) -> ColumnHint | None:
    """The mapping hint of a standard column name ('Email 2 type' -> email.tag, group 2), else None."""
    folded = fold(header)
    if folded in _BY_FOLDED_TEXT:
        return ColumnHint(_BY_FOLDED_TEXT[folded])
    for pattern, target in _SLOT_PATTERNS:
        if (match := pattern.match(folded)):
            return ColumnHint(target, group=("numbered", int(match.group(1))))
    return None


def keyed_custom_field(header: str, keys: set[str]) -> str | None:
    """'Budget [budget-2]' -> 'budget-2' when that key exists."""
    match = KEYED_NAME.match(header.strip())
    return match.group("key") if match and match.group("key") in keys else None
