"""Webhook endpoints: the URL rules, their secrets and the rotation of a secret.

A secret reads `whsec_<base64 of 32 random bytes>` (the Standard Webhooks format). It must be kept in clear to
sign with it; it is shown once, when it is made. After a rotation the previous secret keeps signing, beside the
new one, for PREVIOUS_SECRET_KEPT: a receiver that verifies with either accepts the deliveries meanwhile.
"""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 500
SECRET_PREFIX = "whsec_"
PREVIOUS_SECRET_KEPT = timedelta(hours=24)
ENDPOINT_ID_PREFIX = "we_"


def new_endpoint_id() -> str:
    return ENDPOINT_ID_PREFIX + secrets.token_hex(12)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def url_problem(url: str) -> str | None:
    """What is wrong with a URL as a webhook target, before its host is resolved (None: nothing)."""
    if len(url) > MAX_URL_LENGTH:
        return f"at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not carry credentials (user:password@)"
    if parts.fragment:
        return "must not have a #fragment"
    if port == 0:
        return "not a valid port"
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        return "must not contain spaces or control characters"
    return None


def target_of(url: str) -> tuple[str, int]:
    """(host, port) a valid URL is sent to."""
    parts = urlsplit(url)
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


@dataclass(frozen=True)
class SigningSecret:
    secret: str
    expires_at: datetime | None = None  # None: the current one


def signing_secrets(stored: list[SigningSecret], now: datetime) -> list[str]:
    """The secrets that sign a delivery sent now: the current one and a previous one not yet expired."""
    return [kept.secret for kept in stored if kept.expires_at is None or kept.expires_at > now]


def rotated(stored: list[SigningSecret], now: datetime) -> tuple[str, list[SigningSecret]]:
    """A new current secret, and the secrets kept after the rotation: the new one and the one it replaces, which
    signs for PREVIOUS_SECRET_KEPT more (a previous-previous one is dropped)."""
    fresh = new_secret()
    current = [kept for kept in stored if kept.expires_at is None]
    kept = [SigningSecret(fresh)] + [SigningSecret(old.secret, now + PREVIOUS_SECRET_KEPT) for old in current[:1]]
    return fresh, kept
