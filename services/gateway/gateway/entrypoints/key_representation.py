"""An API key as the API and the CLI show it: never its secret (but once, when it is made) nor a hash."""
from __future__ import annotations

from datetime import datetime

from gateway.domain.api_keys import IssuedKey, prefix
from gateway.domain.key_records import KeyRecord


def key_view(record: KeyRecord) -> dict:
    return {"id": record.key_id, "name": record.name, "prefix": prefix(record.key_id), "scopes": list(record.scopes),
            "created_at": _iso(record.created_at), "expires_at": _iso(record.expires_at),
            "last_used_at": _iso(record.last_used_at), "revoked_at": _iso(record.revoked_at),
            "previous_secret_expires_at": _iso(record.previous_secret_expires_at)}


def issued_key_view(record: KeyRecord, issued: IssuedKey) -> dict:
    return {**key_view(record), "secret": issued.plaintext}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
