"""Display names (labels, custom fields, options, saved views) and the immutable keys derived from them."""
from __future__ import annotations

import re
import unicodedata

from crm_platform.errors import InvalidInput
from crm_platform.input_guard import text_problem

MAX_NAME = 100


def clean_name(name: str) -> str:
    """The name on one line with single spaces; InvalidInput (on `name`) if empty, too long or not storable text."""
    if (problem := text_problem(name or "")) is not None:
        raise InvalidInput("invalid name", errors={"name": [problem]})
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidInput("invalid name", errors={"name": [f"1 to {MAX_NAME} characters"]})
    return cleaned

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def key_from_name(name: str, fallback: str = "label") -> str:
    """'Client VIP' -> 'client-vip', 'Fournisseur éthique' -> 'fournisseur-ethique'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].rstrip("-")
    return key or fallback
