"""Search keys precomputed in the contacts read model, so that finding contacts needs neither text
indexes nor `$lookup` (FerretDB has neither) and is accent- and case-insensitive.

Search goes by word-prefix tokens: a contact's `search_tokens` hold every prefix a user
may type, and each word of a query must be one of them. A token is found by equality,
which MongoDB serves from a multikey index and FerretDB pushes down to its storage (on
PostgreSQL a `@>` that a GIN index serves), where a `$regex` was evaluated on every
contact of the account (25-30 s at 100,000 on FerretDB).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

import phonenumbers

TEXT_SOURCES = ("first_name", "last_name", "company", "job_title", "code", "info_email")
# Bounds that keep `search_tokens` small: each token at most MAX_TOKEN_LENGTH characters (a longer
# query word is found by its first ones, then checked whole against `search_text`), and at most
# MAX_TOKENS per contact, the first sources first (names before the fifth email address). The bound
# also keeps FerretDB-on-PostgreSQL writable: its B-tree index on the array refuses rows over 2,704 bytes.
MAX_TOKEN_LENGTH = 20
MAX_TOKENS = 300
MIN_PHONE_DIGITS = 3  # as typed: fewer digits are searched as text only
MIN_PHONE_SUFFIX = 4  # the last 4 digits or more: "5678" finds 06 12 34 56 78
PHONE_LIKE = re.compile(r"^[+\d\s().\-/]+$")


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
    emails = details.get("emails") or []
    return {
        "search_tokens": contact_tokens(details),
        "search_text": fold(" ".join(t for t in texts if t)),
        "sort_first_name": fold(details.get("first_name") or ""),
        "sort_last_name": fold(details.get("last_name") or ""),
        "subscription_statuses": sorted({e.get("subscription_status", "not_set") for e in emails}),
        "deliverabilities": sorted({e.get("deliverability", "not_set") for e in emails}),
    }


def contact_tokens(details: dict) -> list[str]:
    """Every prefix a user may type to find this contact, at most MAX_TOKENS, the first sources first."""
    texts = [details.get(name) or "" for name in TEXT_SOURCES]
    texts += [e["address"] for e in details.get("emails") or []]
    tokens = dict.fromkeys(token for text in texts for token in text_tokens(text))
    tokens.update(dict.fromkeys(token for phone in details.get("phones") or [] for token in phone_tokens(phone)))
    return list(tokens)[:MAX_TOKENS]


def text_tokens(text: str) -> Iterator[str]:
    """Prefixes of each folded word from each of its word starts: 'jean.dupont@exemple.fr' gives
    'j'...'jean.dupont@exemple', 'd'...'dupont@exemple.fr', 'e'...'exemple.fr', 'f', 'fr'."""
    for word in fold(text).split():
        for start in _word_starts(word):
            rest = word[start:start + MAX_TOKEN_LENGTH]
            yield from (rest[:end] for end in range(1, len(rest) + 1))


def phone_tokens(phone: dict) -> Iterator[str]:
    """Digit prefixes (from MIN_PHONE_DIGITS) of each spelling of the number, and its last digits:
    +33 6 12 34 56 78 gives '336…', '061…', '612…' (as typed, E.164, national, national without
    the trunk 0) and '5678', '45678'..."""
    for spelling in _phone_spellings(phone):
        capped = spelling[:MAX_TOKEN_LENGTH]
        yield from (capped[:end] for end in range(MIN_PHONE_DIGITS, len(capped) + 1))
        yield from (spelling[-end:] for end in range(MIN_PHONE_SUFFIX, min(len(spelling), MAX_TOKEN_LENGTH) + 1))


def _phone_spellings(phone: dict) -> list[str]:
    spellings = [digits(phone["number"])]
    if phone.get("e164"):
        parsed = phonenumbers.parse(phone["e164"])
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        spellings += [digits(phone["e164"]), digits(national), phonenumbers.national_significant_number(parsed)]
    return [s for s in dict.fromkeys(spellings) if s]


def _word_starts(word: str) -> Iterator[int]:
    """Positions of a letter or digit at the start of the word or after anything else."""
    return (i for i, ch in enumerate(word) if ch.isalnum() and (i == 0 or not word[i - 1].isalnum()))


SEARCH_FIELD_NAMES = tuple(search_fields({}))
RETIRED_SEARCH_FIELDS = ("search_phones",)  # documents stored before tokens still hold it: deletion clears it too


@dataclass(frozen=True)
class SearchTerms:
    """What a query asks: every token must be among a contact's, and every long word in its `search_text`."""

    tokens: list[str]  # the longest (most selective) first
    long_words: list[str]  # longer than MAX_TOKEN_LENGTH: their tokens hold only the first characters


def search_terms(q: str) -> SearchTerms:
    """The tokens of a query: its digits if it looks like a phone number, else its folded words."""
    number = digits(q)
    if PHONE_LIKE.match(q) and len(number) >= MIN_PHONE_DIGITS:
        return SearchTerms([number[:MAX_TOKEN_LENGTH]], [])
    words = list(dict.fromkeys(_typed_words(fold(q).split())))
    words.sort(key=len, reverse=True)
    return SearchTerms([w[:MAX_TOKEN_LENGTH] for w in words], [w for w in words if len(w) > MAX_TOKEN_LENGTH])


def _typed_words(words: list[str]) -> list[str]:
    """Words from their first letter or digit ('@exemple.fr' finds 'exemple.fr'); only punctuation:
    kept as typed, so that it finds nothing rather than everything."""
    trimmed = [w[start:] for w in words if (start := _first_alnum(w)) is not None]
    return trimmed or words


def _first_alnum(word: str) -> int | None:
    return next((i for i, ch in enumerate(word) if ch.isalnum()), None)
