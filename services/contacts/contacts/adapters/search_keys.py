"""Search keys precomputed in the contacts read model, so that finding contacts needs neither text
indexes nor `$lookup` (FerretDB has neither) and is accent- and case-insensitive."""
from __future__ import annotations

import re
import unicodedata

import phonenumbers

TEXT_SOURCES = ("first_name", "last_name", "company", "job_title", "code", "info_email")


def fold(text: str) -> str:
    """'Desnotés' -> 'desnotes': no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def search_fields(details: dict) -> dict:
    """The fields the read model keeps for search, filters and sorting."""
    texts = [details.get(name) or "" for name in TEXT_SOURCES]
    texts += [e["address"] for e in details.get("emails") or []]
    phone_keys: list[str] = []
    for phone in details.get("phones") or []:
        phone_keys.append(digits(phone["number"]))
        if phone.get("e164"):
            phone_keys.append(digits(phone["e164"]))
            national = phonenumbers.format_number(phonenumbers.parse(phone["e164"]), phonenumbers.PhoneNumberFormat.NATIONAL)
            phone_keys.append(digits(national))
    emails = details.get("emails") or []
    return {
        "search_text": fold(" ".join(t for t in texts if t)),
        "search_phones": sorted(set(k for k in phone_keys if k)),
        "sort_first_name": fold(details.get("first_name") or ""),
        "sort_last_name": fold(details.get("last_name") or ""),
        "subscription_statuses": sorted({e.get("subscription_status", "not_set") for e in emails}),
        "deliverabilities": sorted({e.get("deliverability", "not_set") for e in emails}),
    }


SEARCH_FIELD_NAMES = tuple(search_fields({}))
