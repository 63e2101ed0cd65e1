"""Our own CSV format: every field of a contact, one column per entry part and per custom field.

It is the format that re-imports to identical contacts: `suggest_mapping`
maps its header back (given the account's custom fields), and each cell holds
what `convert_row` reads back (tags and statuses as codes, countries as ISO
codes, labels by name). See standard_columns.py for the header.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from contacts.importing.cell_values import format_number, join_label_names
from contacts.importing.csv_output import CsvStyle, csv_chunks
from contacts.importing.folding import fold
from contacts.importing.known_columns import claims_name
from contacts.importing.layout import ExportLayout
from contacts.importing.mapping import TEXT_TARGETS, ColumnMapping
from contacts.importing.standard_columns import KEYED_NAME, LABELS_COLUMN, SLOT_COLUMNS, TEXT_COLUMNS

_PLURALS = {"email": "emails", "phone": "phones", "address": "addresses", "website": "websites"}
TEMPLATE_CONTACT = {
    "first_name": "Louise", "last_name": "Desnotés", "company": "Maison du Papier", "job_title": "Gérante",
    "function": "Direction", "department": "Ventes", "code": "C-0042", "vat_number": "FR40303265045",
    "info_email": "contact@maison-papier.fr",
    "emails": [{"address": "louise@maison-papier.fr", "tag": "work", "primary": True,
                "subscription_status": "subscribed", "deliverability": "not_set"}],
    "phones": [{"number": "03 20 06 51 26", "tag": "work", "primary": True}],
    "addresses": [{"tag": "work", "street": ["12 rue de la Paix"], "postal_code": "59000", "city": "Lille",
                   "region": "Hauts-de-France", "country": "FR"}],
    "websites": ["https://maison-papier.fr"],
    "labels": ["Clients", "Papeterie"],
}


def write_standard_csv(contacts: Iterable[dict], layout: ExportLayout, excel_fr: bool = False) -> Iterator[bytes]:
    """Contacts (read models: details, label names, function/department names) as our CSV, in chunks.

    `excel_fr` writes what French Excel opens directly: BOM, ';', decimal commas.
    Raises LayoutTooSmall (while streaming) for a contact with more entries than the layout.
    """
    style = CsvStyle.of(excel_fr)
    columns = standard_columns(layout)
    header = [name for name, _ in columns]
    types = {field["key"]: field["type"] for field in layout.custom_fields}

    def rows() -> Iterator[list[str]]:
        for contact in contacts:
            layout.check_fits(contact)
            yield [_cell(contact, column, types, style.decimal_comma) for _, column in columns]

    return csv_chunks(header, rows(), style)


def standard_columns(layout: ExportLayout) -> list[tuple[str, ColumnMapping]]:
    """(header, mapping) of every column of an export with this layout, in order.

    A custom field's column is named after the field, or `Name [key]` when the
    name alone would read back as another column or another field.
    """
    columns = [(name, ColumnMapping(target)) for name, target in TEXT_COLUMNS]
    for field, templates in SLOT_COLUMNS.items():
        for n in range(1, getattr(layout, field) + 1):
            columns += [(name.format(n=n), ColumnMapping(target, slot=n)) for name, target in templates]
    columns.append((LABELS_COLUMN, ColumnMapping("labels")))
    taken = {fold(name) for name, _ in columns}
    for field in layout.custom_fields:
        name = field["name"]
        if fold(name) in taken or claims_name(name) or KEYED_NAME.match(name):
            name = f"{name} [{field['key']}]"
        taken.add(fold(name))
        columns.append((name, ColumnMapping("custom_field", key=field["key"])))
    return columns


def template_csv(excel_fr: bool = False) -> bytes:
    """Our header with one example row (Louise Desnotés of Maison du Papier), for people to fill in."""
    return b"".join(write_standard_csv([TEMPLATE_CONTACT], ExportLayout(), excel_fr))


def _cell(contact: dict, column: ColumnMapping, types: dict[str, str], decimal_comma: bool) -> str:
    target = column.target
    if target in TEXT_TARGETS:
        return contact.get(target) or ""
    if target == "labels":
        return join_label_names(contact.get("labels") or [])
    if target == "custom_field":
        value = (contact.get("custom_fields") or {}).get(column.key)
        if value is None:
            return ""
        is_number = types.get(column.key) == "number" and not isinstance(value, (bool, str))
        return format_number(value, decimal_comma) if is_number else str(value)
    entries = contact.get(_PLURALS[column.kind]) or []
    if column.slot > len(entries):
        return ""
    return _entry_cell(entries[column.slot - 1], column.target.partition(".")[2])


def _entry_cell(entry: dict | str, part: str) -> str:
    if isinstance(entry, str):  # a website
        return entry
    if part == "":
        return entry.get("address") or entry.get("number") or ""
    if part == "primary":
        return "yes" if entry.get("primary") else ""
    if part in ("subscription_status", "deliverability"):
        return "" if entry.get(part, "not_set") == "not_set" else entry[part]
    if part.startswith("street"):
        lines = entry.get("street") or []
        line = {"street": 0, "street2": 1, "street3": 2}[part]
        return lines[line] if line < len(lines) else ""
    return entry.get(part) or ""
