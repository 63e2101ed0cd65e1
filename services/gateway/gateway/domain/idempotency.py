"""Idempotency keys: a client's retry of a write gets the first answer instead of a second write.

A client sends `Idempotency-Key: <1 to 255 printable ASCII characters>` with a POST, PATCH or
DELETE. The gateway keeps, per account and for 24 hours, a record of the first request sent
with that key: a fingerprint of the request, whether it is still in flight, and what of its
answer may be kept (domain/replay.py). Neither the key nor the request is stored as sent: both
are HMACs under a secret kept out of the database (derived from INTERNAL_TOKEN), because a key
is text the client chooses and a body holds personal data (a plain hash of a short body could
be confirmed by guessing it).
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from crm_platform.errors import Conflict, InvalidInput

from gateway.domain.replay import KeptResponse

HEADER = "Idempotency-Key"
METHODS = frozenset({"POST", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# Printable ASCII with no space at either end: HTTP strips those, so such a key would never reach us as sent.
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
_KEY = re.compile(KEY_PATTERN)
RETENTION = timedelta(hours=24)
# A request that finds its key in flight is told to come back after this long (most writes take milliseconds).
IN_FLIGHT_RETRY_AFTER_S = 1


class IdempotencyKeyReused(InvalidInput):
    title = "Idempotency key reused"
    slug = "idempotency-key-reused"

    def __init__(self) -> None:
        super().__init__(
            f"this {HEADER} was sent with another request (method, path, query or body differ) in the last 24 hours; "
            "a new request needs a new key",
            errors={HEADER: ["was used for a different request"]},
        )


class IdempotencyKeyInFlight(Conflict):
    title = "Idempotency key in flight"
    slug = "idempotency-key-in-flight"

    def __init__(self) -> None:
        super().__init__(f"a request with this {HEADER} is still being processed; retry once it has answered")
        self.retry_after = IN_FLIGHT_RETRY_AFTER_S


def checked_key(value: str) -> str:
    """The key a client sent, if it is one (else InvalidInput naming the header)."""
    if len(value) > MAX_KEY_LENGTH or not _KEY.fullmatch(value):
        raise InvalidInput(f"the {HEADER} header is not a valid key; see `errors`",
                           errors={HEADER: [f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, "
                                            "with no space at either end"]})
    return value


def record_id(secret: bytes, account_id: str, key: str) -> str:
    """Where an account's key is recorded: two accounts sending the same key have two records."""
    return hmac.new(secret, _framed(account_id, key), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WriteRequest:
    """What makes two requests the same request: a retry must repeat all of it."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    content_type: str
    if_match: str
    body: bytes


def fingerprint(secret: bytes, request: WriteRequest) -> str:
    """A keyed digest of the request: equal for a faithful retry, different if anything that matters differs."""
    media_type, params = _media_type(request.content_type)
    # A JSON body is compared parsed, whatever its charset; a multipart one without its boundary (below).
    kept_params = "" if _is_json(media_type) else urlencode(sorted(
        (name, value) for name, value in params.items() if name != "boundary"))
    head = _framed(request.method.upper(), request.path, urlencode(request.query), media_type, kept_params,
                   request.if_match)
    return hmac.new(secret, head + canonical_body(request.content_type, request.body), hashlib.sha256).hexdigest()


def canonical_body(content_type: str, body: bytes) -> bytes:
    """The body as the service reads it, so that a retry serialised anew still matches.

    JSON is compared parsed (key order, spacing and escapes do not change what the service
    reads); a multipart body without its boundary (clients draw a new one for each attempt;
    it cannot occur in the parts' content). Anything else, byte for byte.
    """
    media_type, params = _media_type(content_type)
    if _is_json(media_type):
        try:
            return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except (ValueError, RecursionError):
            return body  # the service will refuse it; as bytes it is still this request
    boundary = params.get("boundary")
    if media_type.startswith("multipart/") and boundary:
        return body.replace(b"--" + boundary.encode("latin-1", "replace"), b"--boundary")
    return body


class State(enum.Enum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


class Step(enum.Enum):
    REPLAY = "replay"  # answer what the first request answered
    TAKE_OVER = "take_over"  # the record is as good as absent (expired, or its request died): run this one


@dataclass(frozen=True)
class Record:
    """The first request with a key in an account: who runs it, and what it answered."""

    id: str
    account_id: str
    fingerprint: str
    state: State
    created_at: datetime
    expires_at: datetime
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)  # the attempt that runs (or ran) it
    response: KeptResponse | None = None

    @classmethod
    def start(cls, record_id: str, account_id: str, request_fingerprint: str, now: datetime) -> "Record":
        """The record of a request that runs from `now`."""
        return cls(record_id, account_id, request_fingerprint, State.IN_FLIGHT, now, now + RETENTION)

    def completed(self, response: KeptResponse) -> "Record":
        return Record(self.id, self.account_id, self.fingerprint, State.COMPLETED, self.created_at, self.expires_at,
                      self.owner, response)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def abandoned(self, now: datetime, stale_after: timedelta) -> bool:
        """In flight for longer than any request can run: the process running it died."""
        return self.state is State.IN_FLIGHT and now - self.created_at >= stale_after

    def next_step(self, request_fingerprint: str, now: datetime, stale_after: timedelta) -> Step:
        """What a request with this fingerprint does with the stored record; raises when it must be refused."""
        if self.expired(now):
            return Step.TAKE_OVER
        if not hmac.compare_digest(self.fingerprint, request_fingerprint):
            raise IdempotencyKeyReused()
        if self.state is State.COMPLETED:
            return Step.REPLAY
        if self.abandoned(now, stale_after):
            return Step.TAKE_OVER
        raise IdempotencyKeyInFlight()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    media_type, *params = content_type.split(";")
    pairs = (param.partition("=") for param in params)
    return media_type.strip().lower(), {name.strip().lower(): value.strip().strip('"') for name, _, value in pairs}


def _framed(*parts: str) -> bytes:
    """Parts joined so that no two different lists of parts give the same bytes."""
    return b"".join(len(encoded).to_bytes(4, "big") + encoded
                    for encoded in (part.encode("utf-8", "surrogatepass") for part in parts))
