"""The public API gateway: authenticates, scopes every request to its account, routes, documents."""
from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests
from flask import Flask, Response, current_app, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from crm_platform import request_context
from crm_platform.errors import DependencyUnavailable, InvalidInput, NotFound, PayloadTooLarge
from crm_platform.web import create_service_app, current_container

from gateway import config
from gateway.adapters.accounts import Caller
from gateway.adapters.upstream import BadUpstreamResponse, UpstreamFailed, UpstreamNotReached
from gateway.bootstrap import Container
from gateway.entrypoints import (
    api_keys_api, auth, contact_360_api, contact_timeline_api, idempotency, own_routes, rate_limiting, webhooks_api,
)
from gateway.entrypoints.openapi_merge import merged_spec
from gateway.entrypoints.relaying import relayed

# Only these client headers reach a service; identity headers are set by the gateway alone.
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "If-Match", "If-None-Match")
OWN_RESOURCES = frozenset({webhooks_api.RESOURCE, api_keys_api.RESOURCE})  # served here, not by a service


def create_app(settings: dict | None = None) -> Flask:
    container = Container(settings or config.load())
    app = create_service_app(
        config.SERVICE_NAME,
        log_level=container.settings["LOG_LEVEL"],
        required_checks={"mongodb": container.mongo.answers},
        reported_checks={f"upstream:{name}": container.upstream_answers(name) for name in container.upstreams},
        # /metrics on the public listener only when asked for (the ingress should block it: docs/operations.md)
        metrics_token=container.settings["METRICS_TOKEN"] if container.settings["GATEWAY_SERVES_METRICS"] else None,
    )
    app.extensions["container"] = container
    app.config["MAX_CONTENT_LENGTH"] = container.settings["MAX_REQUEST_BYTES"]
    api_keys_api.register(app)  # /v1/api-keys: served by the gateway itself, not proxied
    # OPTIONS goes to the service too: only it knows which methods a resource takes (its Allow header)
    app.register_blueprint(webhooks_api.blueprint)  # the gateway's own resource, matched before the proxy's rules
    app.register_blueprint(contact_360_api.blueprint)  # /v1/contacts/{id}/360: the gateway's read of several services
    app.register_blueprint(contact_timeline_api.blueprint)  # /v1/contacts/{id}/timeline: merged from several services
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app.add_url_rule("/v1/<resource>", "proxy_root", proxy, methods=methods, defaults={"rest": ""},
                     provide_automatic_options=False)
    app.add_url_rule("/v1/<resource>/<path:rest>", "proxy", proxy, methods=methods, provide_automatic_options=False)
    app.make_default_options_response = own_routes.options_response  # the Allow of its own routes, not the proxy's
    app.add_url_rule("/openapi.json", "openapi", openapi)
    app.add_url_rule("/docs", "docs", docs)
    app.add_url_rule("/docs/<path:asset>", "docs_asset", docs_asset)
    app.after_request(idempotency.mark_replays)
    app.after_request(rate_limiting.stamp_headers)
    if container.settings["TRUSTED_PROXY_COUNT"]:  # else X-Forwarded-For is the client's say, and ignored
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=container.settings["TRUSTED_PROXY_COUNT"], x_proto=0, x_host=0)
    return app


def proxy(resource: str, rest: str) -> Response:
    container = current_container()
    caller = rate_limiting.admitted_caller(container)
    candidates = _services_for(container, resource)
    if resource in OWN_RESOURCES:  # the gateway's own: a method its routes lack (an unknown path: 404)
        own_routes.refuse_unrouted(request.path)
    if not candidates or any(segment in (".", "..") for segment in rest.split("/")):
        raise NotFound(f"no resource /v1/{resource}; see /docs for what this API offers")
    auth.check_scope(caller, resource)
    if _is_aggregated_contact_read(resource, rest):
        return contact_360_api.aggregated_read(rest)
    path = f"/v1/{resource}" + (f"/{rest}" if rest else "")
    try:
        return _forward(container, caller, candidates, path)
    except InvalidInput:  # the Idempotency-Key refused (malformed, or sent with another request): as for any
        _refuse_what_the_service_would(container, caller, candidates, path)  # field, a 404 or 405 comes first
        raise


def _is_aggregated_contact_read(resource: str, rest: str) -> bool:
    """GET /v1/contacts/{id}?include=...: the contact with the sections named (without `include`, the contacts
    service's own answer)."""
    return (request.method == "GET" and resource == contact_360_api.RESOURCE and rest != "" and "/" not in rest
            and contact_360_api.INCLUDE in request.args)


def _forward(container: Container, caller: Caller, candidates: tuple[str, ...], path: str) -> Response:
    """The service's answer to the request, or, for a write with an Idempotency-Key, the first answer to it."""
    key = idempotency.key_of_request()
    body = _request_body(container.settings["MAX_REQUEST_BYTES"])
    forwarded = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}

    def perform() -> requests.Response:
        return _call(container, caller, candidates, request.method, path, list(request.args.items(multi=True)),
                     forwarded, body)

    if key is None:
        return relayed(perform())
    return idempotency.answer_once(container, caller, key, body, perform, read_back=lambda url: _read_back(
        container, caller, url))


def _call(container: Container, caller: Caller, candidates: tuple[str, ...], method: str, path: str,
          params: list[tuple[str, str]], forwarded: dict, body: bytes = b"") -> requests.Response:
    """The answer of the first candidate service that knows the path (see `_first_that_knows`)."""
    trace = request_context.current()
    headers = {
        **forwarded,
        "X-Account-Id": caller.account_id,
        "X-Actor": f"api-key:{caller.key_id}",
        "X-Request-Id": trace.request_id,
        "X-Correlation-Id": trace.correlation_id,
    }

    def send(service: str) -> requests.Response:
        # Flask decoded the path: encode each segment again, or a `?` or `#` in an id would end the path.
        # Once a request is sent, every failure must come out of upstream_client.call as a DependencyUnavailable:
        # idempotency.answer_once frees a key on any other exception, taking it for a failure before sending.
        url = f"{container.upstreams[service]}{quote(path, safe='/')}"
        return container.upstream_client.call(service, method, url, headers, data=body,
                                              params=params,  # repeated ones too
                                              stream=True)

    service, upstream = _first_that_knows(candidates, send)
    if upstream.status_code >= 500 and "problem+json" not in upstream.headers.get("Content-Type", ""):
        upstream.close()
        raise UpstreamFailed(f"the {service} service failed ({upstream.status_code}); retry later")
    return upstream


def _refuse_what_the_service_would(container: Container, caller: Caller, candidates: tuple[str, ...],
                                   path: str) -> None:
    """Raise the 404 or 405 the service answers `path` with, if it does (one OPTIONS request; a refused
    request only). The gateway checks its own headers before it sends a request on; the service alone
    knows its paths and their methods."""
    try:
        upstream = _call(container, caller, candidates, "OPTIONS", path, [], {})
    except DependencyUnavailable:  # the service cannot say: the refusal of the header stands
        return
    upstream.close()
    if upstream.status_code == 404:
        raise NotFound(f"no resource {path}; see /docs for what this API offers")
    allowed = {m.strip() for m in upstream.headers.get("Allow", "").split(",") if m.strip()}
    if upstream.status_code < 300 and allowed and request.method not in allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))


def _read_back(container: Container, caller: Caller, url: str) -> requests.Response:
    """GET a URL of this API that a service answered with (a created resource's Location), for the caller."""
    parts = urlsplit(url)
    resource = parts.path.removeprefix("/v1/").split("/", 1)[0]
    candidates = _services_for(container, unquote(resource)) if parts.path.startswith("/v1/") else ()
    if not candidates:
        raise BadUpstreamResponse(f"a service named a URL outside this API ({parts.path})")
    accept = {"Accept": request.headers["Accept"]} if "Accept" in request.headers else {}
    return _call(container, caller, candidates, "GET", unquote(parts.path), parse_qsl(parts.query), accept)


def _services_for(container: Container, resource: str) -> tuple[str, ...]:
    """The services to ask, in order: the owner of the route, or for /v1/jobs every service that serves jobs."""
    if resource == config.JOBS_PREFIX:
        return container.job_services
    owner = container.routes.get(resource)
    return (owner,) if owner else ()


def _first_that_knows(services: tuple[str, ...], send) -> tuple[str, requests.Response]:
    """The first answer other than 404, else the last 404: a job id is known to the one service that made it.

    Job ids carry no service name (crm_platform.jobs makes them), so asking in turn is what routes them;
    a GET or a cancel of an id a service does not know changes nothing there. A service that does not
    answer may hold the job: its error is raised unless another service knows the id (the error of
    one that was sent the request before that of one that was not: the request may have run there).
    """
    unavailable: DependencyUnavailable | None = None
    for service in services:
        try:
            upstream = send(service)
        except DependencyUnavailable as exc:
            if unavailable is None or isinstance(unavailable, UpstreamNotReached):
                unavailable = exc
            continue
        if upstream.status_code != 404 or (service == services[-1] and unavailable is None):
            return service, upstream
        upstream.close()
    raise unavailable


def _request_body(max_bytes: int) -> bytes:
    try:
        return request.get_data()
    except RequestEntityTooLarge:
        raise PayloadTooLarge("the request body", max_bytes, request.content_length) from None


def openapi():
    return merged_spec(current_container())


def docs():
    return send_from_directory(current_app.root_path, "docs.html", mimetype="text/html")


def docs_asset(asset: str):
    return send_from_directory(swagger_ui_path, asset)
