"""Contacts as vCard 3.0, streamed in chunks of cards (vobject writes and folds the lines).

Mapped: names, company and department (ORG), job title (TITLE), function
(ROLE), emails, phones and addresses with TYPE parameters, websites (URL),
label names (CATEGORIES). Not written: code, VAT number, info email, custom
fields and email statuses, which vCard has no common property for.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import vobject

from contacts.importing.countries import country_name

CARDS_PER_CHUNK = 100
_EMAIL_TYPES = {"main": [], "home": ["HOME"], "work": ["WORK"], "other": []}
_PHONE_TYPES = {"main": ["VOICE"], "home": ["HOME", "VOICE"], "work": ["WORK", "VOICE"], "mobile": ["CELL", "VOICE"],
                "direct_line": ["WORK", "VOICE"], "fax": ["FAX"], "other": ["VOICE"]}
_ADDRESS_TYPES = {"home": ["HOME"], "work": ["WORK"], "billing": ["POSTAL"], "shipping": ["PARCEL"], "other": []}


def write_vcards(contacts: Iterable[dict], cards_per_chunk: int = CARDS_PER_CHUNK) -> Iterator[bytes]:
    """UTF-8 vCard 3.0 bytes with CRLF line ends, one chunk per `cards_per_chunk` contacts."""
    pending: list[str] = []
    for contact in contacts:
        pending.append(vcard_text(contact))
        if len(pending) >= cards_per_chunk:
            yield "".join(pending).encode("utf-8")
            pending = []
    if pending:
        yield "".join(pending).encode("utf-8")


def vcard_text(contact: dict) -> str:
    """One contact as a vCard 3.0 card (CRLF line ends, folded by vobject)."""
    card = vobject.vCard()
    first, last = contact.get("first_name", ""), contact.get("last_name", "")
    card.add("n").value = vobject.vcard.Name(family=last, given=first)
    card.add("fn").value = _display_name(contact)
    if contact.get("company") or contact.get("department"):
        units = [contact["department"]] if contact.get("department") else []
        card.add("org").value = [contact.get("company", ""), *units]
    for prop, field in (("title", "job_title"), ("role", "function")):
        if contact.get(field):
            card.add(prop).value = contact[field]
    for email in contact.get("emails") or []:
        _add_typed(card, "email", email["address"], ["INTERNET", *_EMAIL_TYPES.get(email.get("tag"), [])], email)
    for phone in contact.get("phones") or []:
        _add_typed(card, "tel", phone["number"], _PHONE_TYPES.get(phone.get("tag"), ["VOICE"]), phone)
    for address in contact.get("addresses") or []:
        value = vobject.vcard.Address(
            street="\n".join(address.get("street") or []), city=address.get("city", ""),
            region=address.get("region", ""), code=address.get("postal_code", ""),
            country=country_name(address["country"]) if address.get("country") else "",
        )
        _add_typed(card, "adr", value, _ADDRESS_TYPES.get(address.get("tag"), []), {})
    for url in contact.get("websites") or []:
        card.add("url").value = url
    if contact.get("labels"):
        card.add("categories").value = list(contact["labels"])
    return card.serialize()


def _add_typed(card, name: str, value, types: list[str], entry: dict) -> None:
    line = card.add(name)
    line.value = value
    types = [*types, "pref"] if entry.get("primary") else types
    if types:
        line.type_paramlist = types


def _display_name(contact: dict) -> str:
    name = " ".join(part for part in (contact.get("first_name"), contact.get("last_name")) if part)
    emails, phones = contact.get("emails") or [{}], contact.get("phones") or [{}]
    return name or contact.get("company") or emails[0].get("address") or phones[0].get("number") or ""
