"""`Idempotency-Key` on POST, PATCH and DELETE: the first request with a key runs, its retries are replayed.

The rules are the domain's (domain/idempotency.py: keys, fingerprints, records; domain/replay.py:
what of an answer is kept); this module reads them off the Flask request and turns them into responses.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Callable

import requests
from flask import Response, g, request
from pymongo.errors import PyMongoError

from crm_platform.errors import DependencyUnavailable
from crm_platform.mongo import translated

from gateway.adapters.accounts import Caller
from gateway.adapters.upstream import UpstreamFailed, UpstreamNotReached
from gateway.bootstrap import Container
from gateway.domain.idempotency import HEADER, METHODS, WriteRequest, checked_key, fingerprint, record_id
from gateway.domain.replay import (PROBLEM_MEDIA_TYPE, IdempotencyOutcomeUnknown, KeptResponse, Replay,
                                   ResponseNotKept, no_answer, response_to_keep)
from gateway.entrypoints.relaying import read_whole, relayed
from gateway.service_layer.idempotency import claim_or_replay, finish

log = logging.getLogger(__name__)
REPLAYED_HEADER = "Idempotent-Replayed"


def key_of_request() -> str | None:
    """The request's idempotency key (422 if it is not one), or None: none sent, or a method that needs none."""
    if request.method not in METHODS or HEADER not in request.headers:
        return None
    return checked_key(request.headers[HEADER])


def answer_once(container: Container, caller: Caller, key: str, body: bytes, perform: Callable[[], requests.Response],
                read_back: Callable[[str], requests.Response]) -> Response:
    """Run `perform` if this is the first request with `key` in the caller's account, else replay the first answer."""
    secret, records = container.idempotency_secret, container.idempotency_records
    this_request = WriteRequest(request.method, request.path, tuple(request.args.items(multi=True)),
                                request.headers.get("Content-Type", ""), request.headers.get("If-Match", ""), body)
    try:
        outcome = claim_or_replay(records, record_id(secret, caller.account_id, key), caller.account_id,
                                  fingerprint(secret, this_request), _now(), container.in_flight_stale_after)
    except PyMongoError as exc:
        raise translated(exc, "the gateway's idempotency records") from None
    if isinstance(outcome, KeptResponse):
        return _replay(outcome, read_back)
    try:
        upstream = perform()
    except (UpstreamNotReached, UpstreamFailed):  # not sent, or the service said it failed: a retry runs it again
        _finish_quietly(lambda: finish(records, outcome, None))
        raise
    except DependencyUnavailable as exc:  # sent, no answer (a timeout, a dropped connection, a garbled answer):
        unknown = no_answer(exc.status)  # it may have run, never run it twice
        _finish_quietly(lambda: finish(records, outcome, unknown))
        raise
    except Exception:  # the gateway failed before the request went out (the upstream client maps every failure
        _finish_quietly(lambda: finish(records, outcome, None))  # after it): nothing ran, a retry may run it
        raise
    response, kept = _first_answer(upstream)
    # The write is done: its answer goes out even if the record cannot be completed (a retry then
    # finds the key in flight until `in_flight_stale_after`, and runs again after it).
    _finish_quietly(lambda: finish(records, outcome, kept))
    return response


def mark_replays(response: Response) -> Response:
    """Every answer that repeats a first request's says so, whatever it is (after_request hook)."""
    if g.get("idempotent_replay"):
        response.headers[REPLAYED_HEADER] = "true"
    return response


def _first_answer(upstream: requests.Response) -> tuple[Response, KeptResponse | None]:
    """The response to send, and what to keep of it."""
    status, headers = upstream.status_code, dict(upstream.headers)
    if 400 <= status < 500 and PROBLEM_MEDIA_TYPE in headers.get("Content-Type", ""):
        response, raw = read_whole(upstream)  # a problem: small, and its type is kept
        return response, response_to_keep(status, headers, True, _json_object(raw))
    has_body = status not in (204, 304) and headers.get("Content-Length") != "0"
    return relayed(upstream), response_to_keep(status, headers, has_body)


def _replay(kept: KeptResponse, read_back: Callable[[str], requests.Response]) -> Response:
    g.idempotent_replay = True
    if kept.replay is Replay.NOT_KEPT:
        raise ResponseNotKept(kept.status)
    if kept.replay is Replay.OUTCOME_UNKNOWN:
        raise IdempotencyOutcomeUnknown(kept.status)
    if kept.replay is not Replay.READ_BACK:
        return Response(kept.body, status=kept.status, headers=kept.headers)
    current = read_back(kept.read_back_url)
    if current.status_code != 200:  # gone since (deleted, erased) or not readable now: say so
        return relayed(current)
    response = relayed(current, status=kept.status)  # its body, Content-Type and ETag are the current state's
    for name, value in kept.headers.items():
        if name not in ("ETag", "Content-Type"):
            response.headers[name] = value
    return response


def _finish_quietly(step: Callable[[], None]) -> None:
    try:
        step()
    except PyMongoError:
        log.warning("could not update an idempotency record", exc_info=True)


def _json_object(raw: bytes) -> dict | None:
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _now() -> datetime:
    return datetime.now(timezone.utc)
