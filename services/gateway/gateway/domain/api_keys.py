"""API keys: what a client holds, and what we store (only a hash of the secret).

A key reads `crm_<key id>_<secret>`. The key id finds the stored record; the
secret is compared by its SHA-256 digest. Keys are 256-bit random values, so a
fast hash is enough (password hashing is for low-entropy secrets).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PATTERN = re.compile(r"^crm_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
KEY_ID_PATTERN = re.compile(r"[a-z0-9]{12}")

# What a key may do. `read`: GET/HEAD/OPTIONS; `write`: every other method; `privacy`: the privacy endpoints
# (a person's export and erasure, for compliance staff), whatever the method; `admin`: the account's API keys
# (/v1/api-keys), whatever the method.
READ, WRITE, PRIVACY, ADMIN = "read", "write", "privacy", "admin"
SCOPES = (READ, WRITE, PRIVACY, ADMIN)
DEFAULT_SCOPES = (READ, WRITE)  # a key issued without scopes named, and keys stored before scopes existed
OWNER_SCOPES = SCOPES  # an account's first key (create-account): its owner's
# First path segments under /v1/ that need a scope of their own, whatever the method.
RESOURCE_SCOPES = {"privacy": PRIVACY, "api-keys": ADMIN}
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def required_scope(method: str, resource: str) -> str:
    """The scope a request needs, from its method and its first path segment under /v1/."""
    if resource in RESOURCE_SCOPES:
        return RESOURCE_SCOPES[resource]
    return READ if method.upper() in READING_METHODS else WRITE


def parse_scopes(text: str) -> tuple[str, ...]:
    """`read,write` -> ("read", "write"); ValueError naming what is not a scope."""
    scopes = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes are a comma-separated list of {', '.join(SCOPES)}; not {', '.join(unknown) or '(none)'}")
    return scopes


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret_hash: str
    plaintext: str  # shown once to the operator, never stored


def issue_key() -> IssuedKey:
    return new_secret(secrets.token_hex(6))


def new_secret(key_id: str) -> IssuedKey:
    """A fresh secret for this key id (a new key's, or a rotated key's)."""
    secret = secrets.token_urlsafe(32)
    return IssuedKey(key_id, digest(secret), f"crm_{key_id}_{secret}")


def prefix(key_id: str) -> str:
    """What of a key may be shown to tell it from the others: `crm_<key id>` (the id is no secret)."""
    return f"crm_{key_id}"


def parse_key(presented: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    match = KEY_PATTERN.match(presented)
    return (match.group(1), match.group(2)) if match else None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_hash)
