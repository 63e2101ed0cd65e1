"""Comparison keys for text typed by people: accents, case and punctuation do not matter.

"Prénom" and "PRENOM", "E-mail" and "email", "N° TVA" and "n tva" compare equal.
"""
from __future__ import annotations

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lowercase ASCII words separated by single spaces: 'Code  postal (CP)' -> 'code postal cp'."""
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE"))
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _NOT_ALNUM.sub(" ", ascii_text).strip()


def squash(text: str) -> str:
    """`fold` without spaces: 'Nom de famille' -> 'nomdefamille', 'E-mail' -> 'email'."""
    return fold(text).replace(" ", "")


def words(text: str) -> list[str]:
    """The folded words: 'Tél. (Bureau)' -> ['tel', 'bureau']."""
    return fold(text).split()
