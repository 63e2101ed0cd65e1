"""Turn one row of cells into contact details, following a column mapping.

The result is ready for `normalize_details` (which still checks emails,
phones, VAT numbers...): only what the row gives is present, so it can also
serve as a partial update. Cells this layer cannot read (a bad date, an
unknown country) are left out and reported as problems; the caller decides
whether the row is imported without them or refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from contacts.importing import tags
from contacts.importing.cell_values import (
    label_names, parse_date, parse_flag, parse_number, split_emails, split_list, split_urls, unguard_formula,
    with_url_scheme,
)
from contacts.importing.countries import country_code
from contacts.importing.mapping import TEXT_TARGETS, ColumnMapping
from contacts.importing.slots import SlotEntries


@dataclass(frozen=True)
class CellProblem:
    """A cell that could not be read; str() gives 'Header: reason' for people."""

    column: int | None  # 0-based column index; None for a vCard property
    header: str  # the column's header, or the vCard property name
    reason: str

    def __str__(self) -> str:
        where = self.header or (f"column {self.column + 1}" if self.column is not None else "card")
        return f"{where}: {self.reason}"


@dataclass
class ConvertedRow:
    """One row (or vCard) as contact details, label names, and the problems met."""

    row_number: int  # as in Table rows; the card's 1-based index for vCards
    details: dict  # contact details without labels; only the fields the row gives
    label_names: list[str] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    note: str = ""  # a note to add to the contact (a "Notes" column), not a contact field


@dataclass(frozen=True)
class ImportOptions:
    """Choices the person importing makes for the whole file."""

    # every email becomes "subscribed", except one the file itself marks "unsubscribed" (consent withdrawn)
    mark_subscribed: bool = False


class RowConverter:
    """Converts rows with one mapping; build it once per import.

    `mapping` must have no `new_custom_field` left (see resolve_new_custom_fields);
    `custom_field_types` maps the account's custom field keys to their types.
    """

    def __init__(self, mapping: Sequence[ColumnMapping], custom_field_types: dict[str, str] | None = None,
                 options: ImportOptions = ImportOptions(), header: Sequence[str] = ()) -> None:
        if any(column.target == "new_custom_field" for column in mapping):
            raise ValueError("create the new custom fields and resolve them in the mapping first")
        self.mapping = list(mapping)
        self.types = custom_field_types or {}
        self.options = options
        self.header = list(header)
        self.default_tags = {(c.kind, c.slot): c.tag for c in self.mapping if c.slot is not None and c.tag}

    def convert(self, cells: Sequence[str], row_number: int = 0) -> ConvertedRow:
        text: dict = {}
        labels: list[str] = []
        custom: dict = {}
        note = ""
        entries = SlotEntries(self.default_tags)
        problems = []
        for index, column in enumerate(self.mapping):
            value = unguard_formula(cells[index].strip()).strip() if index < len(cells) else ""
            if not value or column.target == "skip":
                continue
            if column.target in TEXT_TARGETS:
                text[column.target] = value
                reason = None
            elif column.target == "labels":  # unstripped: a final newline says "one name per line"
                labels += [name for name in label_names(unguard_formula(cells[index])) if name not in labels]
                reason = None
            elif column.target == "note":  # its lines are kept: a note is multi-line text
                note = "\n".join(value.splitlines())
                reason = None
            elif column.target == "custom_field":
                reason = self._custom(column.key, value, custom)
            else:
                reason = _slot_value(entries, column, value)
            if reason:
                problems.append(CellProblem(index, self._header(index), reason))
        for index in range(len(self.mapping), len(cells)):
            if cells[index].strip():
                problems.append(CellProblem(index, "", "this cell is past the last column of the header"))
        details = {**text, **entries.details(self.options.mark_subscribed)}
        if custom:
            details["custom_fields"] = custom
        return ConvertedRow(row_number, details, labels, problems, note)

    def _header(self, index: int) -> str:
        return self.header[index] if index < len(self.header) else ""

    def _custom(self, key: str, value: str, out: dict) -> str | None:
        kind = self.types.get(key)
        if kind is None:
            return f"no custom field with key {key!r} in this account"
        if kind == "number":
            number = parse_number(value)
            if number is None:
                return f"{value!r} is not a number"
            out[key] = number
        elif kind == "date":
            day = parse_date(value)
            if day is None:
                return f"{value!r} is not a date (YYYY-MM-DD, DD/MM/YYYY or DD.MM.YYYY)"
            out[key] = day
        else:
            out[key] = with_url_scheme(value) if kind == "url" else value
        return None


def convert_row(
    cells: Sequence[str], mapping: Sequence[ColumnMapping], custom_field_types: dict[str, str] | None = None,
    options: ImportOptions = ImportOptions(), *, header: Sequence[str] = (), row_number: int = 0,
) -> ConvertedRow:
    """One row at once; prefer a RowConverter for a whole table."""
    return RowConverter(mapping, custom_field_types, options, header).convert(cells, row_number)


def _slot_value(entries: SlotEntries, column: ColumnMapping, value: str) -> str | None:
    """Put one cell into its slot; a reason when the cell cannot be read."""
    slot, part = (column.kind, column.slot), column.target.partition(".")[2]
    if column.target == "email":
        entries.add_values(slot, split_emails(value))
    elif column.target == "phone":
        entries.add_values(slot, split_list(value, separators="\n;"))
    elif column.target == "website":
        entries.add_values(slot, [with_url_scheme(url) for url in split_urls(value)])
    elif part == "tag":
        reader = {"email": tags.email_tag, "phone": tags.phone_tag, "address": tags.address_tag}[column.kind]
        entries.set(slot, "tag", reader(value))
        if value.startswith("* "):  # Google marks the primary entry so
            entries.set(slot, "primary", True)
    elif part == "primary":
        flag = parse_flag(value)
        if flag is None:
            return f"{value!r} is neither yes nor no"
        entries.set(slot, "primary", flag)
    elif part in ("subscription_status", "deliverability"):
        reader = tags.subscription_status if part == "subscription_status" else tags.deliverability
        status = reader(value)
        if status is None:
            return f"unknown {part.replace('_', ' ')} {value!r}"
        entries.set(slot, part, status)
    elif part.startswith("street"):
        entries.set_street(slot, part, [line.strip() for line in value.splitlines() if line.strip()])
    elif part == "country":
        code = country_code(value)
        if code is None:
            return f"unknown country {value!r}; give its name or ISO code (FR, BE...)"
        entries.set(slot, "country", code)
    else:
        entries.set(slot, part, value)
    return None

