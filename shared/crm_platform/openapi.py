"""OpenAPI 3 descriptions generated from the marshmallow schemas that validate requests.

Views declare what they take and return with `@operation(...)`; `build_spec`
walks the Flask URL map, so the document cannot drift from the routes.
"""
from __future__ import annotations

import copy
import re
from typing import Callable

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, jsonify

from crm_platform.openapi_examples import state_examples
from crm_platform.openapi_schema_rules import state_schema_rules

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
        # members some problems add (crm_platform.errors.ServiceError's `extra`), typed for SDK generators
        "current_revision": {"type": "integer", "description": "409 on a stale revision: the resource's revision "
                                                              "now; read it again and send the change again"},
        "existing_contact_id": {"type": "string", "description": "409 duplicate-contact: the contact that has the "
                                                                 "email or phone already"},
        "matched": {"type": "string", "description": "409 duplicate-contact: that email or phone, normalised"},
        "max_bytes": {"type": "integer", "description": "413: the largest size accepted"},
        "required_scope": {"type": "string", "description": "403: the API key scope this request needs"},
    },
    "required": ["type", "title", "status", "detail"],
}
# Headers of every answer, of the answers that create something (201, 202), and of files.
REQUEST_ID_HEADER = {"description": "The request's id, in every log line about it (the client's, or made up)",
                     "schema": {"type": "string"}}
CREATED_HEADERS = {
    "Location": {"description": "The URL of what was created (of its job, for 202)", "schema": {"type": "string"}},
    "Content-Location": {"description": "The URL of what was created, where an answer gives it instead of Location",
                         "schema": {"type": "string"}},
}
REVISION_HEADER = {"description": 'The revision shown, quoted (`"3"`), where the service sends it: send it back in '
                                  "If-Match to change this revision only", "schema": {"type": "string"}}
FILE_HEADERS = {"ETag": {"description": "The file's SHA-256, for If-None-Match", "schema": {"type": "string"}},
                "Content-Disposition": {"description": "The file's name (RFC 6266)", "schema": {"type": "string"}}}
TEXT_FILE = {"type": "string", "description": "The file's text"}  # as a response `(media type(s), TEXT_FILE)`
BINARY = {"type": "string", "format": "binary"}  # a file's bytes, as a response `(media type(s), BINARY)`
# Listed first for every file response: generators read a body of this type as bytes, while most of them (such as
# openapi-python-client) cannot read one of a type such as `image/png` or `application/zip` at all.
GENERIC_BINARY_TYPE = "application/octet-stream"


def operation(
    summary: str,
    *,
    tags: list[str],
    request_schema=None,
    responses: dict[int, object] | None = None,
    query_schema=None,
    problems: tuple[int, ...] = (),
    request_media_type: str = "application/json",
    request_required: bool = True,
    operation_id: str | None = None,
) -> Callable:
    """Attach the OpenAPI description of one view (schemas are marshmallow classes or instances).

    A response is a schema (sent as JSON) or a `(media type, schema)` pair; a file (`BINARY`) may name the media
    types it can have, `(("image/png", "image/jpeg"), BINARY)`. The operationId SDK generators name
    their functions after is the view's name in camelCase (`create_contact` is `createContact`); `operation_id`
    gives another where that name is not unique across the services (`get_settings`).
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
            "request_required": request_required,
            "operation_id": operation_id or camel_case(view.__name__),
        }
        return view

    return decorate


def build_spec(app: Flask, title: str, version: str, path_prefix: str = "") -> dict:
    """The OpenAPI 3.0 document of every `@operation`-described route of `app`."""
    spec = APISpec(title=title, version=version, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin(), SchemaConstraintsPlugin()])
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    operation_ids: dict[str, str] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "__openapi__", None)
        if meta is None:
            continue
        path = path_prefix + openapi_path(rule.rule)
        methods = sorted(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
        # a path segment: a `/` in it (even as %2F) would make it another route
        params = [{"in": "path", "name": name, "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}
                  for name in _path_parameter_names(rule.rule)]
        operations = {m: _operation(meta, params, len(methods) > 1 and m) for m in methods}
        for method, op in operations.items():
            if operation_ids.setdefault(op["operationId"], f"{method} {path}") != f"{method} {path}":
                raise ValueError(f"operationId {op['operationId']} of {method} {path} is taken: give `operation_id`")
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    document["tags"] = _declared_tags(document, title)
    state_schema_rules(document)
    declare_common_headers(document)
    state_examples(document)
    return document


def declare_common_headers(document: dict) -> None:
    """Every answer carries X-Request-Id (crm_platform.web), one that creates something says where it is, and one
    showing a resource with a revision may carry it as ETag."""
    for operations in document.get("paths", {}).values():
        for op in operations.values():
            for status, response in op.get("responses", {}).items() if isinstance(op, dict) else ():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-Id", copy.deepcopy(REQUEST_ID_HEADER))
                for name, header in CREATED_HEADERS.items() if status in ("201", "202") else ():
                    headers.setdefault(name, copy.deepcopy(header))
                if _shows_a_revision(document, response):
                    headers.setdefault("ETag", copy.deepcopy(REVISION_HEADER))


def _shows_a_revision(document: dict, response: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    component = document.get("components", {}).get("schemas", {}).get(name, {})
    return "revision" in component.get("properties", {})


class SchemaConstraintsPlugin(BasePlugin):
    """Adds what a marshmallow schema checks as a whole (`@validates_schema`) to its OpenAPI description.

    A schema class states it in `openapi_constraints`, e.g. `{"minProperties": 1}` or an `anyOf` of
    `required` lists, so that a request the description allows is one the service accepts.
    """

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        constraints = dict(getattr(schema, "openapi_constraints", None) or {})
        if "anyOf" in constraints:
            # "one of these holds" stated as "not none of them": the same for validators and schemathesis, while
            # SDK generators, which read an `anyOf` beside `properties` as a union of types that lose the
            # properties, leave `not` aside
            constraints["not"] = {"allOf": [{"not": branch} for branch in constraints.pop("anyOf")]}
        return constraints or None


def _declared_tags(document: dict, service: str) -> list[dict]:
    """The tags of the document's operations, each naming the service that serves it (generators group by tag)."""
    names = dict.fromkeys(tag for operations in document.get("paths", {}).values()
                          for op in operations.values() if isinstance(op, dict) for tag in op.get("tags", []))
    return [{"name": name, "description": f"Served by the {service} service"} for name in names]


def merge_tags(document: dict, tags: list[dict]) -> None:
    """Add another document's tags to `document`'s (a tag two services serve, such as `jobs`, is listed once)."""
    declared = document.setdefault("tags", [])
    known = {tag["name"] for tag in declared}
    declared += [tag for tag in tags if tag["name"] not in known]


def _path_parameter_names(flask_rule: str) -> list[str]:
    """In the order of the path (`rule.arguments` is a set: generated functions would change signature)."""
    return re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", flask_rule)


def openapi_path(flask_rule: str) -> str:
    """A Flask rule as an OpenAPI path: `/v1/contacts/<contact_id>` is `/v1/contacts/{contact_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", flask_rule)


def documented_statuses(app: Flask, method: str, path: str) -> set[str]:
    """The statuses the app's OpenAPI document gives the operation serving `method path` (a concrete path)."""
    rule, _ = app.url_map.bind("localhost").match(path, method, return_rule=True)
    return set(build_spec(app, app.name, "1")["paths"][openapi_path(rule.rule)][method.lower()]["responses"])


def camel_case(name: str) -> str:
    """`download_attachment` as `downloadAttachment`."""
    first, *rest = name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def _operation(meta: dict, path_params: list[dict], method: str | bool) -> dict:
    # a view serving several methods names one operation per method (`settingsGet`, `settingsPut`)
    operation_id = meta["operation_id"] + (method.capitalize() if method else "")
    op: dict = {"operationId": operation_id, "summary": meta["summary"], "tags": meta["tags"],
                "parameters": list(path_params)}
    if meta["query_schema"] is not None:
        op["parameters"].append({"in": "query", "schema": meta["query_schema"]})
    if meta["request_schema"] is not None:
        content = {meta["request_media_type"]: {"schema": meta["request_schema"]}}
        op["requestBody"] = {"required": meta["request_required"], "content": content}
    op["responses"] = {}
    for status, schema in meta["responses"].items():
        content = _response_content(schema)
        headers = FILE_HEADERS if content and BINARY in [m["schema"] for m in content.values()] else {}
        op["responses"][str(status)] = {"description": _describe(status), "headers": copy.deepcopy(headers),
                                        **({"content": content} if content else {})}
    # Any call: a parameter or body with text that cannot be stored (422), a URL too long (414), a
    # database or broker outage (503); one with a body: a body larger than accepted (413, the gateway's limit
    # for any body, a service's for a file).
    takes_a_body = (413,) if meta["request_schema"] is not None else ()
    declare_problems(op, (*meta["problems"], *takes_a_body, 401, 414, 422, 500, 503))
    return op


def declare_problems(op: dict, statuses: tuple[int, ...]) -> None:
    """Add to the operation `op` the problem+json answers of these statuses it does not declare yet."""
    for status in statuses:
        op.setdefault("responses", {}).setdefault(
            str(status),
            {
                "description": _describe(status),
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )


def _response_content(response: object) -> dict | None:
    media_types, schema = response if isinstance(response, tuple) else ("application/json", response)
    if schema is None:
        return None
    media_types = (media_types,) if isinstance(media_types, str) else tuple(media_types)
    if schema == BINARY:
        media_types = tuple(dict.fromkeys((GENERIC_BINARY_TYPE, *media_types)))
    return {media_type: {"schema": schema} for media_type in media_types}


def _describe(status: int) -> str:
    return {
        200: "OK",
        201: "Created",
        202: "Accepted",
        204: "No content",
        401: "Missing or invalid API key",
        403: "The API key lacks the scope this needs (`required_scope` names it)",
        304: "Not modified (If-None-Match)",
        404: "Not found (or not in your account)",
        414: "URL too long",
        409: "Conflict: stale revision or duplicate, or processing restricted (GDPR Art. 18)",
        413: "Body or file too large (the detail states the limit)",
        415: "Unsupported media type of the body or file",
        422: "Invalid fields (see `errors`)",
        500: "Unexpected error",
        502: "The service behind the gateway failed or gave an answer that is not HTTP; retry later",
        503: "A dependency is unavailable; retry later",
        504: "The service behind the gateway did not answer in time; the request may have run",
    }.get(status, "See detail")


def add_spec_route(app: Flask, title: str, version: str) -> None:
    """Serve the app's own OpenAPI document at /openapi.json (the gateway merges the services' documents)."""

    def openapi():
        return jsonify(build_spec(app, title, version))

    app.add_url_rule("/openapi.json", "openapi", openapi)
