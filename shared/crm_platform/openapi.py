"""OpenAPI 3 descriptions generated from the marshmallow schemas that validate requests.

Views declare what they take and return with `@operation(...)`; `build_spec`
walks the Flask URL map, so the document cannot drift from the routes.
"""
from __future__ import annotations

import re
from typing import Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, jsonify

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "object", "description": "field name -> list of messages (validation errors)"},
    },
    "required": ["type", "title", "status", "detail"],
}
BINARY = {"type": "string", "format": "binary"}  # a file's bytes, as a response `(media type, BINARY)`


def operation(
    summary: str,
    *,
    tags: list[str],
    request_schema=None,
    responses: dict[int, object] | None = None,
    query_schema=None,
    problems: tuple[int, ...] = (),
    request_media_type: str = "application/json",
) -> Callable:
    """Attach the OpenAPI description of one view (schemas are marshmallow classes or instances).

    A response is a schema (sent as JSON) or a `(media type, schema)` pair.
    """

    def decorate(view: Callable) -> Callable:
        view.__openapi__ = {
            "summary": summary,
            "tags": tags,
            "request_schema": request_schema,
            "responses": responses or {},
            "query_schema": query_schema,
            "problems": problems,
            "request_media_type": request_media_type,
        }
        return view

    return decorate


def build_spec(app: Flask, title: str, version: str, path_prefix: str = "") -> dict:
    """The OpenAPI 3.0 document of every `@operation`-described route of `app`."""
    spec = APISpec(title=title, version=version, openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "__openapi__", None)
        if meta is None:
            continue
        path = path_prefix + re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        methods = sorted(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
        params = [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}} for name in rule.arguments]
        spec.path(path=path, operations={m: _operation(meta, params) for m in methods})
    return spec.to_dict()


def _operation(meta: dict, path_params: list[dict]) -> dict:
    op: dict = {"summary": meta["summary"], "tags": meta["tags"], "parameters": list(path_params)}
    if meta["query_schema"] is not None:
        op["parameters"].append({"in": "query", "schema": meta["query_schema"]})
    if meta["request_schema"] is not None:
        content = {meta["request_media_type"]: {"schema": meta["request_schema"]}}
        op["requestBody"] = {"required": True, "content": content}
    op["responses"] = {}
    for status, schema in meta["responses"].items():
        media_type, schema = schema if isinstance(schema, tuple) else ("application/json", schema)
        content = {media_type: {"schema": schema}} if schema is not None else None
        op["responses"][str(status)] = {"description": _describe(status), **({"content": content} if content else {})}
    for status in (*meta["problems"], 401, 500, 503):  # any call may meet a database or broker outage
        op["responses"].setdefault(
            str(status),
            {
                "description": _describe(status),
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
    return op


def _describe(status: int) -> str:
    return {
        200: "OK",
        201: "Created",
        202: "Accepted",
        204: "No content",
        401: "Missing or invalid API key",
        304: "Not modified (If-None-Match)",
        404: "Not found (or not in your account)",
        409: "Conflict: stale revision or duplicate",
        413: "Body or file too large (the detail states the limit)",
        415: "Unsupported media type of the body or file",
        422: "Invalid fields (see `errors`)",
        500: "Unexpected error",
        503: "A dependency is unavailable; retry later",
    }.get(status, "See detail")


def add_spec_route(app: Flask, title: str, version: str) -> None:
    """Serve the app's own OpenAPI document at /openapi.json (the gateway merges the services' documents)."""

    def openapi():
        return jsonify(build_spec(app, title, version))

    app.add_url_rule("/openapi.json", "openapi", openapi)
