"""Reading and writing single cell values: numbers, dates, flags, lists, and the formula guard.

The formula guard follows OWASP's advice on CSV injection: a cell a
spreadsheet would run as a formula gets a leading apostrophe on export, and
import takes it off again, so our own files round-trip exactly.
"""
from __future__ import annotations

import re
from datetime import date

from contacts.importing.folding import fold

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
GOOGLE_SEPARATOR = " ::: "
_CURRENCY = "€$£"
_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.+\-Z]*)?$")
_TRUE = {"yes", "oui", "true", "vrai", "1", "x", "y", "o", "primary", "principal", "principale"}
_FALSE = {"no", "non", "false", "faux", "0", "n"}
_GOOGLE_SYSTEM_GROUPS = {"mycontacts", "my contacts", "starred", "other contacts"}


def guard_formula(value: str) -> str:
    """Prefix an apostrophe when a spreadsheet would read the cell as a formula.

    A value that already starts with apostrophes before a trigger gets one more,
    so `unguard_formula` restores it exactly.
    """
    return "'" + value if value.lstrip("'")[:1] in FORMULA_TRIGGERS else value


def unguard_formula(value: str) -> str:
    """Undo `guard_formula`: "'=1+1" -> "=1+1", "'+33 6..." -> "+33 6..."; other cells unchanged."""
    if value[:1] == "'" and value.lstrip("'")[:1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def split_list(cell: str, separators: str = "\n;,") -> list[str]:
    """Split a cell holding several values: by newlines, Google's ' ::: ', else the first separator found.

    Only the strongest separator present is used, so 'Paris, Lyon' on its own
    line is one value when the cell also has newlines.
    """
    if "\n" in cell and "\n" in separators:
        parts = cell.splitlines()
    elif GOOGLE_SEPARATOR.strip() in cell:
        parts = cell.split(GOOGLE_SEPARATOR.strip())
    else:
        found = next((s for s in separators if s != "\n" and s in cell), None)
        parts = cell.split(found) if found else [cell]
    return [part.strip() for part in parts if part.strip()]


def split_emails(cell: str) -> list[str]:
    """Email addresses hold no spaces, commas or semicolons: any of them (or ':::') separates two."""
    return [part for part in re.split(r"[\s,;]+", cell) if part and part != ":::"]


def split_urls(cell: str) -> list[str]:
    """URLs separated by whitespace or ':::'; a ',' or ';' ending one of several is a separator too."""
    parts = [part for part in cell.split() if part != ":::"]
    return [part.rstrip(",;") for part in parts] if len(parts) > 1 else parts


def label_names(cell: str) -> list[str]:
    """Label names in a cell, without Google's system groups ('* myContacts', '* starred')."""
    names = []
    for name in split_list(cell):
        if name.startswith("* "):
            name = name[2:].strip()
            if fold(name) in _GOOGLE_SYSTEM_GROUPS:
                continue
        if name and name not in names:
            names.append(name)
    return names


def join_label_names(names: list[str]) -> str:
    """Names joined by ', ', or one per line (with a final newline) when a name holds ',' or ';'."""
    if any("," in name or ";" in name for name in names):
        return "".join(f"{name}\n" for name in names)
    return ", ".join(names)


def parse_number(cell: str) -> int | float | None:
    """'1 234,5' / '1,234.5' / '1234.5' / '-3' / '12 €' -> number; None when it is not one.

    A lone comma is a decimal comma (French habit), so '1,234' is 1.234.
    """
    text = _SPACES.sub("", cell).strip(_CURRENCY)
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1 or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    try:
        if re.fullmatch(r"[+-]?\d+", text) and abs(int(text)) < 2**63:  # BSON holds 64-bit integers
            return int(text)
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def format_number(value: int | float, decimal_comma: bool = False) -> str:
    """Python's shortest exact form (parse_number reads it back to the same value), with a decimal comma if asked."""
    text = str(value)
    return text.replace(".", ",") if decimal_comma else text


def parse_date(cell: str) -> str | None:
    """YYYY-MM-DD (time ignored), DD/MM/YYYY, DD.MM.YYYY or DD-MM-YYYY -> 'YYYY-MM-DD'; None otherwise."""
    text = cell.strip()
    if (iso := _ISO_DATE.match(text)):
        year, month, day = iso.groups()
    elif (day_first := _DAY_FIRST.match(text)):
        day, month, year = day_first.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def parse_flag(cell: str) -> bool | None:
    """yes/oui/true/x/1 -> True, no/non/false/0 -> False, anything else -> None."""
    folded = fold(cell)
    return True if folded in _TRUE else False if folded in _FALSE else None


def with_url_scheme(cell: str) -> str:
    """'www.maison-papier.fr' -> 'https://www.maison-papier.fr'; URLs with a scheme are unchanged."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", cell, re.IGNORECASE) or " " in cell or "." not in cell:
        return cell
    return "https://" + cell
