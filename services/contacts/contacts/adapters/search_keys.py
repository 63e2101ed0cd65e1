"""Search keys precomputed in the contacts read model, so that finding contacts needs neither text
indexes nor `$lookup` (FerretDB has neither) and is accent- and case-insensitive.

Search goes by word-prefix tokens: a contact's `search_tokens` hold the prefixes of each run
of letters or digits of its names, company, job title, code and email addresses, and the
first and last digits of its phone numbers; each word of a query must be among them. A token
is found by equality, which MongoDB serves from a multikey index and FerretDB pushes down to
its storage (on PostgreSQL a `@>` that a GIN index serves), where a `$regex` was evaluated on
every contact of the account (25-30 s at 100,000 on FerretDB). A query word with punctuation
(`louise.desn`, `@exemple.fr`) is also checked as typed in `search_text`, on the few contacts
its runs let through: storing the prefixes of whole addresses too made the benchmark's documents
a quarter larger (2.5 against 2.0 KB), and a default list on FerretDB decodes every document of
the account.
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
LETTERS_OR_DIGITS = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """'Desnotés' -> 'desnotes': no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def search_fields(details: dict) -> dict:
    """The fields the read model keeps for search, filters and sorting."""
    emails = details.get("emails") or []
    return {
        "search_tokens": contact_tokens(details),
        "search_text": fold(" ".join(_texts(details))),
        "sort_first_name": fold(details.get("first_name") or ""),
        "sort_last_name": fold(details.get("last_name") or ""),
        "subscription_statuses": sorted({e.get("subscription_status", "not_set") for e in emails}),
        "deliverabilities": sorted({e.get("deliverability", "not_set") for e in emails}),
    }


def contact_tokens(details: dict) -> list[str]:
    """Every prefix a user may type to find this contact, at most MAX_TOKENS, the first sources first: the
    names and company, then each email with the phone of the same rank (so a contact with much text still
    keeps its first email's and first phone's tokens)."""
    names = [details.get(name) or "" for name in TEXT_SOURCES]
    tokens = dict.fromkeys(token for text in names if text for token in text_tokens(text))
    emails, phones = details.get("emails") or [], details.get("phones") or []
    for rank in range(max(len(emails), len(phones))):
        if rank < len(emails):
            tokens.update(dict.fromkeys(text_tokens(emails[rank]["address"])))
        if rank < len(phones):
            tokens.update(dict.fromkeys(phone_tokens(phones[rank])))
    return list(tokens)[:MAX_TOKENS]


def _texts(details: dict) -> list[str]:
    texts = [details.get(name) or "" for name in TEXT_SOURCES] + [e["address"] for e in details.get("emails") or []]
    return [text for text in texts if text]


def text_tokens(text: str) -> Iterator[str]:
    """Prefixes of each run of letters or digits: 'Jean-Pierre' gives 'j'...'jean', 'p'...'pierre';
    'paul@exemple.fr' gives 'p'...'paul', 'e'...'exemple', 'f', 'fr'."""
    for run in _runs(fold(text)):
        capped = run[:MAX_TOKEN_LENGTH]
        yield from (capped[:end] for end in range(1, len(capped) + 1))


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


def _runs(text: str) -> list[str]:
    """The runs of letters or digits of a text (any alphabet)."""
    return LETTERS_OR_DIGITS.findall(text)


SEARCH_FIELD_NAMES = tuple(search_fields({}))
RETIRED_SEARCH_FIELDS = ("search_phones",)  # documents stored before tokens still hold it: deletion clears it too


@dataclass(frozen=True)
class SearchTerms:
    """What a query asks: every token among a contact's, and every literal word in its `search_text`."""

    tokens: list[str]  # the longest (most selective) first
    literal_words: list[str]  # with punctuation, or longer than a token: checked as typed on the few candidates


def search_terms(q: str) -> SearchTerms:
    """The tokens of a query: its digits if it looks like a phone number, else its words' runs of letters or digits.

    A word of one run must start a word of the contact; 'louise.desn' must also appear as typed
    (its runs find the candidates, the text check keeps 'louise.desnotes@...' and not 'desn.louise').
    A word without letters or digits ('-', '.*') asks nothing, unless the query has nothing else: then it
    finds nothing rather than everything.
    """
    number = digits(q)
    if PHONE_LIKE.match(q) and len(number) >= MIN_PHONE_DIGITS:
        return SearchTerms([number[:MAX_TOKEN_LENGTH]], [])
    words = fold(q).split()
    runs = [run for word in words for run in _runs(word)]
    if not runs:
        return SearchTerms(words[:1], [])  # no token starts with punctuation
    tokens = sorted(dict.fromkeys(run[:MAX_TOKEN_LENGTH] for run in runs), key=len, reverse=True)
    literal = [w for w in dict.fromkeys(words) if _runs(w) and (_runs(w) != [w] or len(w) > MAX_TOKEN_LENGTH)]
    return SearchTerms(tokens, literal)
