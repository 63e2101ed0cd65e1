"""Search keys precomputed in the contacts read model, so that finding contacts needs neither text
indexes nor `$lookup` (FerretDB has neither) and is accent- and case-insensitive.

Search goes by word-prefix tokens: a contact's `search_tokens` hold prefixes of each run of letters
or digits of its names, company, job title, code and email addresses, and digit prefixes and endings
of its phone numbers; each word of a query must be among them. A token is found by equality, which
MongoDB serves from a multikey index and FerretDB pushes down to its storage (on PostgreSQL a `@>`
that a GIN index serves), where a `$regex` was evaluated on every contact of the account (25-30 s at
100,000 on FerretDB).

Tokens are kept few, because FerretDB decodes every document a list reads and pays per byte (the
first tokens doubled each document and made the default list 2-4 times slower, docs/figures.md):
- text prefixes only of the lengths in PREFIX_LENGTHS (1 to 6, then 8, 10, 12, 16, 20): a query word
  of another length is found by its longest stored prefix and then checked as typed, at the start of a
  word, in `search_text`, on the few contacts that prefix lets through; a run of digits only (a code's
  `1234567`) keeps every prefix, as a phone number's digits do, so that digits typed alone (read as a
  phone number: one token) find it;
- phone digits in two spellings, the national number as dialled at home (`0612345678`) and without its
  trunk prefix (`612345678`), with the endings of 4 digits or more; the international spelling is a
  token of its country (`+33`), and a query after + looks for the national significant number after
  the country code (`612`, or `+33` when fewer than 3 digits follow) and checks the number as typed
  against the contact's `phones.e164`, instead of every prefix of `33612345678` being stored;
- a query word with punctuation (`louise.desn`, `@exemple.fr`) is checked as typed in `search_text`:
  storing the prefixes of whole addresses too made the documents a quarter larger.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

import phonenumbers

from contacts.adapters.name_initials import initial_fields

TEXT_SOURCES = ("first_name", "last_name", "company", "job_title", "code", "info_email")
# The lengths of the stored text prefixes: every length where a query word lets many contacts
# through, fewer beyond. The last is also the longest token: a longer query word is found by its
# first MAX_TOKEN_LENGTH characters, then checked whole against `search_text`.
PREFIX_LENGTHS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20)
MAX_TOKEN_LENGTH = PREFIX_LENGTHS[-1]
# At most MAX_TOKENS per contact, the first sources first (names before the fifth email address). The
# bound also keeps FerretDB-on-PostgreSQL writable: its B-tree index on the array refuses rows over 2,704 bytes.
MAX_TOKENS = 300
MIN_PHONE_DIGITS = 3  # as typed: fewer digits are searched as text only
MIN_PHONE_SUFFIX = 4  # the last 4 digits or more: "5678" finds 06 12 34 56 78
PHONE_LIKE = re.compile(r"^[+\d\s().\-/]+$")
LETTERS_OR_DIGITS = re.compile(r"[^\W_]+")
INTERNATIONAL = re.compile(r"^[\s(]*\+")  # '+33 6', '(+33) 6'
TRUNK_IN_PARENTHESES = re.compile(r"\(\s*0\s*\)")
COUNTRY_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


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
    sort_names = {"sort_first_name": fold(details.get("first_name") or ""),
                  "sort_last_name": fold(details.get("last_name") or "")}
    return {
        "search_tokens": contact_tokens(details),
        "search_text": fold(" ".join(_texts(details))),
        **sort_names,
        **initial_fields(sort_names),  # lists sorted by name read one initial at a time (name_initials.py)
        "subscription_statuses": sorted({e.get("subscription_status", "not_set") for e in emails}),
        "deliverabilities": sorted({e.get("deliverability", "not_set") for e in emails}),
    }


def contact_tokens(details: dict) -> list[str]:
    """The tokens a query looks this contact up by, at most MAX_TOKENS, the first sources first: the
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
    """Prefixes of the PREFIX_LENGTHS of each run of letters or digits: 'Jean-Pierre' gives 'je'...'jean',
    'pi'...'pierre'; 'Desnotés' gives 'de'...'desnot', 'desnotes'; 'paul@exemple.fr' gives 'pa'...'paul',
    'ex'...'exempl', 'fr'."""
    for run in _runs(fold(text)):
        if run.isdigit():  # '1234567' typed alone is one token (search_terms): every prefix, as for a phone
            yield from (run[:end] for end in range(1, min(len(run), MAX_TOKEN_LENGTH) + 1))
        else:
            yield from (run[:length] for length in PREFIX_LENGTHS if length <= len(run))


def prefix_length(length: int) -> int | None:
    """The longest stored prefix length up to `length` (None under the shortest)."""
    return max((stored for stored in PREFIX_LENGTHS if stored <= length), default=None)


def phone_tokens(phone: dict) -> Iterator[str]:
    """+33 6 12 34 56 78 gives the prefixes of 3 digits or more of '0612345678' and '612345678' (as dialled
    at home, and without the trunk 0), its last digits '5678', '45678'... (shorter than the whole
    national number, which is a prefix already) and '+33': a query '+33 6 12 34' looks for '61234' and
    checks '+3361234' on `phones.e164` (search_terms). A number stored without E.164 gives its digits as typed."""
    parsed = phonenumbers.parse(phone["e164"]) if phone.get("e164") else None
    if parsed is None:
        spellings, national = [digits(phone["number"])], digits(phone["number"])
    else:
        national = phonenumbers.national_significant_number(parsed)
        dialled = digits(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
        spellings = [dialled, national]
        yield f"+{parsed.country_code}"
    for spelling in dict.fromkeys(s for s in spellings if s):
        capped = spelling[:MAX_TOKEN_LENGTH]
        yield from (capped[:end] for end in range(MIN_PHONE_DIGITS, len(capped) + 1))
    yield from (national[-end:] for end in range(MIN_PHONE_SUFFIX, min(len(national), MAX_TOKEN_LENGTH + 1)))


def _runs(text: str) -> list[str]:
    """The runs of letters or digits of a text (any alphabet)."""
    return LETTERS_OR_DIGITS.findall(text)


SEARCH_FIELD_NAMES = tuple(search_fields({}))
RETIRED_SEARCH_FIELDS = ("search_phones",)  # documents stored before tokens still hold it: deletion clears it too


@dataclass(frozen=True)
class SearchTerms:
    """What a query asks: every token among a contact's, and every literal word in its `search_text`."""

    tokens: list[str]  # the most selective first
    literal_words: list[str]  # with punctuation, or of a length without a token: checked as typed on the candidates
    phone_start: str | None = None  # after +: the start of one of the contact's numbers in E.164, checked likewise


def search_terms(q: str) -> SearchTerms:
    """The tokens of a query: its digits if it looks like a phone number, else its words' runs of letters or digits.

    A word of one run must start a word of the contact: its longest stored prefix is a token, and a word
    longer than that prefix is also checked as typed at the start of a word of `search_text`; 'louise.desn'
    must also appear as typed (its runs find the candidates, the text check keeps 'louise.desnotes@...' and
    not 'desn.louise'). A word without letters or digits ('-', '.*') asks nothing, unless the query has
    nothing else: then it finds nothing rather than everything.
    """
    number = digits(q)
    if PHONE_LIKE.match(q) and len(number) >= MIN_PHONE_DIGITS:
        return _phone_terms(q, number)
    words = fold(q).split()
    runs = [run for word in words for run in _runs(word)]
    if not runs:
        return SearchTerms(words[:1], [])  # no token starts with punctuation
    tokens = sorted(dict.fromkeys(_token(run) for run in runs), key=len, reverse=True)
    literal = [w for w in dict.fromkeys(words) if _runs(w) and (_runs(w) != [w] or _token(w) != w)]
    return SearchTerms(tokens, literal)


def _token(run: str) -> str:
    """The token a query's run is looked up by: a run of digits whole (a code's, or a phone's beginning, which
    `search_text` does not hold), any other its longest stored prefix (then checked whole in `search_text`)."""
    if run.isdigit():
        return run[:MAX_TOKEN_LENGTH]
    return run[:prefix_length(len(run))]


def _phone_terms(q: str, number: str) -> SearchTerms:
    """'06 12 34' -> token '061234'; '+33 6 12 34' -> token '61234' (the number after its country code), and
    '+3361234' must start one of the contact's numbers in E.164; '+33 6' -> token '+33', likewise. A + may
    be in parentheses ('(+33) 6 12'); a trunk 0 in parentheses ('+33 (0)6 12 34', as French business cards
    print it) is left out where the country's trunk prefix is 0 (not in Italy, where the 0 is dialled from
    abroad too). A number without +
    is read as dialled at home, its last digits included: '0033 6 12 34' and '33 6 12 34' find nothing (00
    cannot be told from last digits such as '0012')."""
    if not INTERNATIONAL.match(q):
        return SearchTerms([number[:MAX_TOKEN_LENGTH]], [])
    code = next((number[:end] for end in (1, 2, 3) if number[:end] in COUNTRY_CODES), None)
    if code is None:
        return SearchTerms(["+" + number], [])  # no such country: finds nothing, as no token starts so
    if TRUNK_IN_PARENTHESES.search(q) and _trunk_prefix(code) == "0":  # the 0 is dialled at home only
        number = digits(TRUNK_IN_PARENTHESES.sub(" ", q))
    rest = number[len(code):]
    token = rest[:MAX_TOKEN_LENGTH] if len(rest) >= MIN_PHONE_DIGITS else f"+{code}"
    return SearchTerms([token], [], phone_start="+" + number)


def _trunk_prefix(country_code: str) -> str | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(
        phonenumbers.region_code_for_country_code(int(country_code)))
    return metadata.national_prefix if metadata is not None else None


def starts_a_word(word: str) -> bool:
    """Whether a literal word must be found at the start of a word of `search_text` (it starts with a
    letter or digit: a token found its first run's prefix, the text check keeps it at a word's start)."""
    return bool(LETTERS_OR_DIGITS.match(word))
