"""The public OpenAPI document: the services' own documents (built from their marshmallow
schemas) merged into one, with the gateway's authentication added."""
from __future__ import annotations

import copy
import logging
import time

from flask import Flask, current_app

from crm_platform.openapi import build_spec, declare_common_headers, declare_problems, merge_tags
from crm_platform.openapi_examples import state_examples

from gateway.bootstrap import Container
from gateway.domain.idempotency import HEADER, KEY_PATTERN, MAX_KEY_LENGTH, METHODS
from gateway.entrypoints.idempotency import REPLAYED_HEADER
from gateway.entrypoints.webhooks_openapi import declare_webhook_endpoints

log = logging.getLogger(__name__)
_CACHE: dict = {"at": 0.0, "spec": None}
CACHE_SECONDS = 30.0


def merged_spec(container: Container) -> dict:
    """The merged document, cached briefly; a service that does not answer is listed as unavailable."""
    if _CACHE["spec"] is not None and time.monotonic() - _CACHE["at"] < CACHE_SECONDS:
        return _CACHE["spec"]
    spec: dict = {
        "openapi": "3.0.3",
        "info": {
            "title": "CRM API",
            "version": "1",
            "description": "Every request needs `Authorization: Bearer <API key>`. Errors are "
            "`application/problem+json`. Field names are snake_case throughout.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}, "schemas": {}},
    }
    unavailable = []
    for name, base in container.upstreams.items():
        try:
            response = container.upstream_client.call(name, "GET", f"{base}/openapi.json", {})
            response.raise_for_status()
            part = response.json()
        except Exception:  # one service down must not take the whole document with it
            log.warning("could not fetch the OpenAPI document of a service", extra={"upstream": name})
            unavailable.append(name)
            continue
        spec["paths"].update(part.get("paths", {}))
        spec["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
        merge_tags(spec, part.get("tags", []))
    declare_gateway_answers(spec, UPSTREAM_ANSWERS)  # the services' operations only, as yet
    add_own_operations(spec, current_app)
    declare_webhook_endpoints(spec)
    declare_gateway_answers(spec, (403,))  # every operation: each checks the key's scopes
    declare_gateway_answers(spec, (413,), lambda op: "requestBody" in op)  # MAX_REQUEST_BYTES, of any body
    declare_idempotency_keys(spec)  # after the gateway's own routes: their writes take a key too
    declare_rate_limits(spec)
    declare_common_headers(spec)  # last: on the answers the gateway itself adds too
    state_examples(spec)  # the bodies the gateway declares by hand (webhooks); the services' have theirs
    if unavailable:
        spec["info"]["x-unavailable-services"] = unavailable
    else:
        _CACHE.update(at=time.monotonic(), spec=spec)
    return spec


UPSTREAM_ANSWERS = (502, 503, 504)  # of a request forwarded to a service: it failed, is down, or timed out


def declare_gateway_answers(spec: dict, statuses: tuple[int, ...], applies=lambda op: True) -> None:
    """Every operation of `spec` (each that `applies` to) may get these answers from the gateway itself."""
    for operations in spec["paths"].values():
        for op in operations.values():
            if isinstance(op, dict) and applies(op):
                declare_problems(op, statuses)


def add_own_operations(spec: dict, app: Flask) -> None:
    """The routes the gateway serves itself (its `@operation`-described views), in the merged document."""
    own = build_spec(app, "gateway", "1")
    spec["paths"].update(own["paths"])
    merge_tags(spec, own["tags"])
    for name, schema in own.get("components", {}).get("schemas", {}).items():
        spec["components"]["schemas"].setdefault(name, schema)


PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# What an idempotency key adds to a POST, PATCH or DELETE, with the status code that states it.
IDEMPOTENCY_ANSWERS = {
    "409": "a request with this Idempotency-Key is in flight (`idempotency-key-in-flight`, `Retry-After`), or was "
           "answered already with a body that is not kept (`idempotent-response-not-kept`), or reached the service "
           "without an answer and may have been performed (`idempotency-outcome-unknown`)",
    "422": "the Idempotency-Key is malformed, or was sent with a different request (`idempotency-key-reused`)",
    "404": "on a replay, the resource the first request created is gone",
}


def declare_idempotency_keys(spec: dict) -> None:
    """Every POST, PATCH and DELETE takes the optional `Idempotency-Key` header (the gateway's, not a service's)."""
    components = spec["components"]
    components.setdefault("parameters", {})["IdempotencyKey"] = {
        "in": "header", "name": HEADER, "required": False,
        "description": "Makes retrying this write safe: the first request with a key runs, a retry with the same "
                       "key within 24 hours gets its answer (`Idempotent-Replayed: true`) instead of running again. "
                       "Per account; see the API guide, Idempotency.",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    }
    components.setdefault("headers", {})["IdempotentReplayed"] = {
        "description": "`true` when this answer repeats the first request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for operations in spec["paths"].values():
        for method, op in operations.items():
            if method.upper() not in METHODS or not isinstance(op, dict):
                continue
            op.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
            responses = op.setdefault("responses", {})
            for status, why in IDEMPOTENCY_ANSWERS.items():
                if status in responses:
                    responses[status]["description"] += f"; or {why}"
                else:
                    responses[status] = {"description": why[0].upper() + why[1:], "content": PROBLEM}
            for response in responses.values():
                response.setdefault("headers", {})[REPLAYED_HEADER] = header_copy(spec, "IdempotentReplayed")


RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": "The rate-limit policies of the request (IETF draft RateLimit header fields): "
                        '`"key-burst";q=20;w=1, "key";q=600;w=60, "account";q=1200;w=60`, or '
                        '`"auth-failures";q=10;w=60` before the key is known. See the API guide, Rate limits.',
    "RateLimit": 'What is left of each policy counted, and the seconds until its window ends: `"key";r=599;t=42`',
}


def declare_rate_limits(spec: dict) -> None:
    """Every operation may answer 429 (the gateway's rate limits), and every answer carries their headers."""
    headers = spec["components"].setdefault("headers", {})
    for name, description in RATE_LIMIT_HEADERS.items():
        headers[name.replace("-", "")] = {"description": description, "schema": {"type": "string"}}
    headers["RetryAfter"] = {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
    for operations in spec["paths"].values():
        for op in operations.values():
            if not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            responses.setdefault("429", {
                "description": "Over a rate limit (`rate-limited`, `violated_policies`), or too many failed "
                               "authentications from the client's address (`too-many-failed-authentications`)",
                "content": PROBLEM, "headers": {"Retry-After": header_copy(spec, "RetryAfter")}})
            for response in responses.values():
                for name in RATE_LIMIT_HEADERS:
                    response.setdefault("headers", {})[name] = header_copy(spec, name.replace("-", ""))


def header_copy(spec: dict, name: str) -> dict:
    """A response header declared in components, written out in full: openapi-typescript reads a header given as
    a `$ref` as one every answer carries (`Idempotent-Replayed` is on replays only)."""
    return copy.deepcopy(spec["components"]["headers"][name])
