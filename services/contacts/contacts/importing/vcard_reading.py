"""vCard files (2.1, 3.0 and 4.0) read into the same ConvertedRow as CSV rows, one per card.

vobject does the parsing (folded lines, escapes, quoted-printable in 2.1);
this module maps properties to our fields: N/FN -> names, ORG -> company and
department, TITLE -> job title, ROLE -> function, EMAIL/TEL/ADR with their
TYPE parameters (3.0 `TYPE=WORK,VOICE`, 4.0 `TYPE="work,voice"`, 2.1 bare
`WORK`) -> tagged entries, URL -> websites, CATEGORIES -> label names.
"""
from __future__ import annotations

from typing import Iterator

import vobject
from vobject.base import VObjectError

from contacts.importing import tags
from contacts.importing.cell_values import with_url_scheme
from contacts.importing.countries import country_code
from contacts.importing.decoding import decode
from contacts.importing.errors import UnreadableFile
from contacts.importing.rows import CellProblem, ConvertedRow, ImportOptions
from contacts.importing.slots import keep_first_primary


def read_vcards(data: bytes, options: ImportOptions = ImportOptions()) -> Iterator[ConvertedRow]:
    """One ConvertedRow per card, numbered from 1.

    Raises UnreadableFile when there is no card, or when a card cannot be
    parsed (the cards before it have been yielded; parsing cannot resume after it).
    """
    text, _ = decode(data)
    number = 0
    try:
        for component in vobject.readComponents(text, ignoreUnreadable=True, allowQP=True):
            if component.name.upper() == "VCARD":
                number += 1
                yield _convert(component, number, options)
    except (VObjectError, ValueError) as exc:
        raise UnreadableFile(f"vCard {number + 1} cannot be read: {exc}") from None
    if number == 0:
        raise UnreadableFile("the file holds no vCard (BEGIN:VCARD ... END:VCARD)")


def _convert(card, number: int, options: ImportOptions) -> ConvertedRow:
    details: dict = {}
    problems: list[CellProblem] = []
    _names(card, details)
    for prop, field in (("title", "job_title"), ("role", "function")):
        if (value := _text(_first(card, prop))):
            details[field] = value
    org = _first(card, "org")
    if org is not None:
        units = [_text(unit) for unit in (org if isinstance(org, list) else [org])]
        details.update({field: unit for field, unit in zip(("company", "department"), units) if unit})
    emails = [_email(line, options) for line in _lines(card, "email") if _text(line.value)]
    phones = [_phone(line) for line in _lines(card, "tel") if _text(line.value)]
    addresses = [a for line in _lines(card, "adr") if (a := _address(line, problems))]
    websites = [with_url_scheme(_text(line.value)) for line in _lines(card, "url") if _text(line.value)]
    for name, entries in (("emails", emails), ("phones", phones), ("addresses", addresses), ("websites", websites)):
        if entries:
            details[name] = entries
    keep_first_primary(emails)
    keep_first_primary(phones)
    labels: list[str] = []
    for line in _lines(card, "categories"):
        values = line.value if isinstance(line.value, list) else [line.value]
        labels += [name.strip() for name in values if name.strip() and name.strip() not in labels]
    return ConvertedRow(number, details, labels, problems)


def _names(card, details: dict) -> None:
    name = _first(card, "n")
    given, family = (_text(name.given, " "), _text(name.family, " ")) if name is not None else ("", "")
    if not (given or family):  # N is optional in 4.0, and often empty: split FN unless it names the organisation
        full = _text(_first(card, "fn"), " ")
        org = _first(card, "org")
        company = _text(org[0] if isinstance(org, list) and org else org)
        given, _, family = ("" if full == company else full).partition(" ")
    details.update({field: value for field, value in (("first_name", given), ("last_name", family)) if value})


def _email(line, options: ImportOptions) -> dict:
    types = _types(line)
    email = {"address": _text(line.value), "tag": tags.email_tag(" ".join(types)) or "main",
             "primary": _is_preferred(line, types)}
    if options.mark_subscribed:
        email["subscription_status"] = "subscribed"
    return email


def _phone(line) -> dict:
    types = _types(line)
    number = _text(line.value)
    if number.lower().startswith("tel:"):
        number = number[4:].replace(";ext=", " ext. ").split(";")[0]
    return {"number": number, "tag": tags.phone_tag(" ".join(types)) or "main", "primary": _is_preferred(line, types)}


def _address(line, problems: list[CellProblem]) -> dict | None:
    value = line.value
    lines = [part.strip() for field in (value.street, value.extended, value.box)
             for part in _text(field).splitlines() if part.strip()]
    address: dict = {"street": lines} if lines else {}
    for field, part in (("postal_code", value.code), ("city", value.city), ("region", value.region)):
        if _text(part):
            address[field] = _text(part)
    if (country := _text(value.country)):
        code = country_code(country)
        if code is None:
            problems.append(CellProblem(None, "ADR", f"unknown country {country!r}"))
        else:
            address["country"] = code
    if not address:
        return None
    tag = tags.address_tag(" ".join(_types(line)))
    return {"tag": tag, **address} if tag else address


def _types(line) -> list[str]:
    """TYPE values however they are written: TYPE=WORK,VOICE / TYPE="work,voice" / TYPE=a;TYPE=b / bare WORK."""
    raw = [*line.params.get("TYPE", []), *getattr(line, "singletonparams", [])]
    return [value.strip().strip('"').lower() for item in raw for value in item.split(",") if value.strip()]


def _is_preferred(line, types: list[str]) -> bool:
    return "pref" in types or "PREF" in line.params


def _lines(card, name: str) -> list:
    return card.contents.get(name, [])


def _first(card, name: str):
    lines = _lines(card, name)
    return lines[0].value if lines else None


def _text(value, joiner: str = "\n") -> str:
    """A property value or component as text; a list (several values of one component) joined."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return joiner.join(_text(item) for item in value if _text(item))
    return str(value).strip()
