"""`Idempotency-Key` on POST, PATCH and DELETE: the first request with a key runs, its retries are replayed.

The rules are the domain's (domain/idempotency.py: keys, fingerprints, records; domain/replay.py:
what of an answer is kept); this module reads them off the Flask request and turns them into responses,
for a proxied write (`answer_once`) and for a write the gateway serves itself (`once_per_key`) alike.
"""
from __future__ import annotations

import functools
import json
import logging
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

import requests
from flask import Response, current_app, g, request
from pymongo.errors import PyMongoError

from crm_platform.errors import DependencyUnavailable
from crm_platform.mongo import translated
from crm_platform.web import current_container

from gateway.adapters.accounts import Caller
from gateway.adapters.upstream import UpstreamFailed, UpstreamNotReached
from gateway.bootstrap import Container
from gateway.domain.idempotency import HEADER, METHODS, WriteRequest, checked_key, fingerprint, record_id
from gateway.domain.replay import (PROBLEM_MEDIA_TYPE, IdempotencyOutcomeUnknown, KeptResponse, Replay,
                                   ResponseNotKept, no_answer, response_to_keep)
from gateway.entrypoints.relaying import read_whole, relayed
from gateway.service_layer.idempotency import Claimed, claim_or_replay, finish

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
    records = container.idempotency_records
    outcome = _claim(container, caller, key, body)
    if isinstance(outcome, KeptResponse):
        return _replay(outcome, lambda url: relayed(read_back(url)))
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


def once_per_key(caller_of: Callable[[], Caller]) -> Callable:
    """A view of the gateway's own writes, run once per Idempotency-Key like a proxied write (`answer_once`).

    `caller_of` admits the caller and checks its scope before the key is claimed (a refused request claims
    nothing); the view asks for it again and gets the same caller, counted once. What the view answers, or the
    problem it raises, is kept as a service's answer would be: a create's `Location` (or a change's
    `Content-Location`) is read back on a replay, never kept with the body, which may show a secret once.
    """
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def run_once(**args) -> Response:
            caller = caller_of()
            key = key_of_request()
            if key is None:
                return view(**args)
            container = current_container()
            outcome = _claim(container, caller, key, request.get_data())
            if isinstance(outcome, KeptResponse):
                return _replay(outcome, _read_back_own)
            response = _own_answer(view, args)
            _finish_quietly(lambda: finish(container.idempotency_records, outcome, _kept_of_own(response)))
            return response
        return run_once
    return decorate


def mark_replays(response: Response) -> Response:
    """Every answer that repeats a first request's says so, whatever it is (after_request hook)."""
    if g.get("idempotent_replay"):
        response.headers[REPLAYED_HEADER] = "true"
    return response


def _claim(container: Container, caller: Caller, key: str, body: bytes) -> Claimed | KeptResponse:
    secret = container.idempotency_secret
    this_request = WriteRequest(request.method, request.path, tuple(request.args.items(multi=True)),
                                request.headers.get("Content-Type", ""), request.headers.get("If-Match", ""), body)
    try:
        return claim_or_replay(container.idempotency_records, record_id(secret, caller.account_id, key),
                               caller.account_id, fingerprint(secret, this_request), _now(),
                               container.in_flight_stale_after)
    except PyMongoError as exc:
        raise translated(exc, "the gateway's idempotency records") from None


def _own_answer(view: Callable, args: dict) -> Response:
    """The view's answer, or the problem the app's error handlers make of what it raised (kept like a service's)."""
    try:
        return current_app.make_response(view(**args))
    except Exception as exc:
        return current_app.make_response(current_app.handle_user_exception(exc))


def _kept_of_own(response: Response) -> KeptResponse | None:
    status, headers = response.status_code, dict(response.headers)
    if 400 <= status < 500 and PROBLEM_MEDIA_TYPE in headers.get("Content-Type", ""):
        return response_to_keep(status, headers, True, _json_object(response.get_data()))
    return response_to_keep(status, headers, status not in (204, 304) and response.content_length != 0)


def _read_back_own(url: str) -> Response:
    """A GET of one of the gateway's own URLs (what a create's `Location` names), answered within this request."""
    path = urlsplit(url).path.removeprefix(request.script_root)
    endpoint, args = current_app.url_map.bind("").match(path, method="GET")
    return _own_answer(current_app.view_functions[endpoint], args)


def _first_answer(upstream: requests.Response) -> tuple[Response, KeptResponse | None]:
    """The response to send, and what to keep of it."""
    status, headers = upstream.status_code, dict(upstream.headers)
    if 400 <= status < 500 and PROBLEM_MEDIA_TYPE in headers.get("Content-Type", ""):
        response, raw = read_whole(upstream)  # a problem: small, and its type is kept
        return response, response_to_keep(status, headers, True, _json_object(raw))
    has_body = status not in (204, 304) and headers.get("Content-Length") != "0"
    return relayed(upstream), response_to_keep(status, headers, has_body)


def _replay(kept: KeptResponse, read_back: Callable[[str], Response]) -> Response:
    g.idempotent_replay = True
    if kept.replay is Replay.NOT_KEPT:
        raise ResponseNotKept(kept.status)
    if kept.replay is Replay.OUTCOME_UNKNOWN:
        raise IdempotencyOutcomeUnknown(kept.status)
    if kept.replay is not Replay.READ_BACK:
        return Response(kept.body, status=kept.status, headers=kept.headers)
    response = read_back(kept.read_back_url)
    if response.status_code != 200:  # gone since (deleted, erased) or not readable now: say so
        return response
    response.status_code = kept.status  # its body, Content-Type and ETag are the current state's
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
