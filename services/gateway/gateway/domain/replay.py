"""What of a first response the gateway keeps for replays, so that it never keeps personal data.

| first response | kept | a replay answers |
|---|---|---|
| 5xx, 408, 429 | nothing: the key is free again | (the request runs again: it may be retried) |
| no answer, the request sent (timeout, dropped connection) | the gateway's status (504, 503, 502) | 409 `idempotency-outcome-unknown`: it may have run |
| 2xx/3xx with `Location` or `Content-Location` | status, headers | the status and headers; the body, `Content-Type` and `ETag` of a GET of that URL (the resource's current state) |
| 2xx/3xx without a body (204) | status, headers | the same, without a body |
| other 4xx | status, problem `type` and `title` | the same problem, with a `detail` saying the first one's is not kept |
| 2xx with any other body | status | 409 `idempotent-response-not-kept` naming the first status |

A body can hold personal data (a contact, a note, a problem naming the email that is taken), and
the gateway cannot tell which do: it keeps none, and reads the current state back instead where the
response named it. A 202 that started a job names the job, so its replay shows the job as it is now.
"""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field

from crm_platform.errors import Conflict

PROBLEM_MEDIA_TYPE = "application/problem+json"
# "Try later" answers: keeping them would refuse the retry they ask for.
NOT_KEPT_STATUSES = frozenset({408, 429})
KEPT_HEADERS = ("Location", "Content-Location", "ETag", "Content-Type", "Allow")
KEPT_HEADER_PREFIX = "ratelimit"  # RateLimit, RateLimit-Policy (IETF draft) and the like
READ_BACK_HEADERS = ("Location", "Content-Location")


class Replay(enum.Enum):
    EMPTY = "empty"  # status and headers, no body
    READ_BACK = "read_back"  # body read again from the URL the response named
    KEPT = "kept"  # body stored (only what the gateway wrote itself)
    NOT_KEPT = "not_kept"  # only the status is known
    OUTCOME_UNKNOWN = "outcome_unknown"  # sent, never answered: it may have run; the status is the gateway's


@dataclass(frozen=True)
class KeptResponse:
    status: int
    replay: Replay
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def read_back_url(self) -> str | None:
        return next((self.headers[name] for name in READ_BACK_HEADERS if name in self.headers), None)


class ResponseNotKept(Conflict):
    title = "Idempotent response not kept"
    slug = "idempotent-response-not-kept"

    def __init__(self, first_status: int) -> None:
        super().__init__(f"the request with this Idempotency-Key was performed already and answered {first_status}; "
                         "that answer is not kept because it may hold personal data: read the resource for its state",
                         first_status=first_status)


class IdempotencyOutcomeUnknown(Conflict):
    title = "Idempotency outcome unknown"
    slug = "idempotency-outcome-unknown"

    def __init__(self, first_status: int) -> None:
        super().__init__(f"the request with this Idempotency-Key reached the service but got no answer (the gateway "
                         f"answered {first_status}); it may have been performed: read the resource for its state, and "
                         "send the request with a new key to try again", first_status=first_status)


def no_answer(gateway_status: int) -> KeptResponse:
    """What to keep of a request that was sent and got no answer: a retry must not run it a second time."""
    return KeptResponse(gateway_status, Replay.OUTCOME_UNKNOWN)


def response_to_keep(status: int, headers: dict[str, str], has_body: bool, problem: dict | None = None) -> KeptResponse | None:
    """What to keep of a first response (None: keep nothing and let the key be used again).

    `problem` is the parsed problem+json body of a 4xx, if it had one.
    """
    if status >= 500 or status in NOT_KEPT_STATUSES:
        return None
    kept = _kept_headers(headers)
    if status >= 400:
        kept = {name: value for name, value in kept.items() if name not in ("Location", "Content-Location", "ETag")}
        return KeptResponse(status, Replay.KEPT, {**kept, "Content-Type": PROBLEM_MEDIA_TYPE},
                            reduced_problem(status, problem or {}))
    if any(name in kept for name in READ_BACK_HEADERS):
        return KeptResponse(status, Replay.READ_BACK, kept)
    if not has_body:
        return KeptResponse(status, Replay.EMPTY, {k: v for k, v in kept.items() if k != "Content-Type"})
    return KeptResponse(status, Replay.NOT_KEPT)


def _kept_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers worth replaying, under their usual spelling whatever the case they came in."""
    spelling = {name.lower(): name for name in KEPT_HEADERS}
    return {spelling.get(name.lower(), name): value for name, value in headers.items()
            if name.lower() in spelling or name.lower().startswith(KEPT_HEADER_PREFIX)}


def reduced_problem(status: int, problem: dict) -> bytes:
    """The problem's type and title (fixed texts of its kind), without what may quote the request."""
    def fixed_text(name: str, default: str) -> str:
        value = problem.get(name)
        return value if isinstance(value, str) and 0 < len(value) <= 200 else default

    title = fixed_text("title", "Refused")
    return json.dumps({
        "type": fixed_text("type", "about:blank"),
        "title": title,
        "status": status,
        "detail": f"the first request with this Idempotency-Key was refused ({status} {title}); its detail is not "
                  "kept, as it may hold personal data: correct the request and send it with a new key",
    }).encode()
