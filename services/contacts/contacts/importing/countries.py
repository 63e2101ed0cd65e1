"""Country cells: ISO codes and country names in English or French -> ISO 3166-1 alpha-2.

pycountry ships the French names as gettext catalogues; the lookup table is
built once, on first use.
"""
from __future__ import annotations

import gettext
from functools import lru_cache

import pycountry

from contacts.importing.folding import fold

# names people write that are neither ISO names nor their French translation
_ALIASES = {
    "uk": "GB", "great britain": "GB", "grande bretagne": "GB", "england": "GB", "angleterre": "GB",
    "scotland": "GB", "ecosse": "GB", "wales": "GB", "pays de galles": "GB",
    "usa": "US", "united states of america": "US", "etats unis d amerique": "US", "america": "US",
    "holland": "NL", "hollande": "NL", "russia": "RU", "russie": "RU", "south korea": "KR",
    "coree du sud": "KR", "vietnam": "VN", "iran": "IR", "syria": "SY", "syrie": "SY",
    "bolivia": "BO", "bolivie": "BO", "venezuela": "VE", "tanzania": "TZ", "tanzanie": "TZ",
    "moldova": "MD", "moldavie": "MD", "czech republic": "CZ", "republique tcheque": "CZ",
    "tchequie": "CZ", "laos": "LA", "macedoine": "MK", "cote divoire": "CI", "ivory coast": "CI",
    "deutschland": "DE", "espana": "ES", "italia": "IT", "schweiz": "CH", "nederland": "NL", "belgie": "BE",
}


@lru_cache(maxsize=1)
def _codes_by_name() -> dict[str, str]:
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    table: dict[str, str] = {}
    for country in pycountry.countries:
        names = [getattr(country, attr, None) for attr in ("name", "common_name", "official_name")]
        for name in [n for n in names if n]:
            table.setdefault(fold(name), country.alpha_2)
            table.setdefault(fold(french.gettext(name)), country.alpha_2)
        table.setdefault(fold(country.alpha_3), country.alpha_2)
    for alias, code in _ALIASES.items():
        table.setdefault(alias, code)
    return table


def country_code(cell: str) -> str | None:
    """'FR', 'fr', 'FRA', 'France', 'Belgique', 'Royaume-Uni', 'United Kingdom' -> alpha-2; None if unknown."""
    text = cell.strip()
    if len(text) == 2 and pycountry.countries.get(alpha_2=text.upper()) is not None:
        return text.upper()
    folded = fold(text)
    return _codes_by_name().get(folded) or _codes_by_name().get(folded.replace(" ", ""))


def country_name(code: str) -> str:
    """The English short name of an alpha-2 code ('FR' -> 'France'), or the code when unknown."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name
