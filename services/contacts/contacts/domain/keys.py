"""Immutable keys derived from display names (labels, custom fields)."""
from __future__ import annotations

import re
import unicodedata

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def key_from_name(name: str, fallback: str = "label") -> str:
    """'Client VIP' -> 'client-vip', 'Fournisseur éthique' -> 'fournisseur-ethique'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].rstrip("-")
    return key or fallback
