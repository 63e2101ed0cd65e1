"""The public API gateway: authenticates, scopes every request to its account, routes, documents."""
from __future__ import annotations

from urllib.parse import quote

import requests
from flask import Flask, Response, current_app, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import RequestEntityTooLarge

from crm_platform import request_context
from crm_platform.errors import DependencyUnavailable, NotFound, PayloadTooLarge
from crm_platform.web import create_service_app, current_container

from gateway import config
from gateway.adapters.upstream import BadUpstreamResponse
from gateway.bootstrap import Container
from gateway.entrypoints.auth import authenticate
from gateway.entrypoints.openapi_merge import merged_spec

# Only these client headers reach a service; identity headers are set by the gateway alone.
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "If-Match", "If-None-Match")
RETURNED_RESPONSE_HEADERS = ("Content-Type", "Location", "ETag", "Retry-After", "Content-Disposition", "Allow",
                             "Content-Length", "Content-Encoding", "X-Content-Type-Options")
STREAMED_CHUNK = 64 * 1024


def create_app(settings: dict | None = None) -> Flask:
    container = Container(settings or config.load())
    app = create_service_app(
        config.SERVICE_NAME,
        log_level=container.settings["LOG_LEVEL"],
        required_checks={"mongodb": container.mongo.answers},
        reported_checks={f"upstream:{name}": container.upstream_answers(name) for name in container.upstreams},
    )
    app.extensions["container"] = container
    app.config["MAX_CONTENT_LENGTH"] = container.settings["MAX_REQUEST_BYTES"]
    # OPTIONS goes to the service too: only it knows which methods a resource takes (its Allow header)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app.add_url_rule("/v1/<resource>", "proxy_root", proxy, methods=methods, defaults={"rest": ""},
                     provide_automatic_options=False)
    app.add_url_rule("/v1/<resource>/<path:rest>", "proxy", proxy, methods=methods, provide_automatic_options=False)
    app.add_url_rule("/openapi.json", "openapi", openapi)
    app.add_url_rule("/docs", "docs", docs)
    app.add_url_rule("/docs/<path:asset>", "docs_asset", docs_asset)
    return app


def proxy(resource: str, rest: str) -> Response:
    container = current_container()
    caller = authenticate(container.accounts)
    candidates = _services_for(container, resource)
    if not candidates or any(segment in (".", "..") for segment in rest.split("/")):
        raise NotFound(f"no resource /v1/{resource}; see /docs for what this API offers")
    trace = request_context.current()
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers.update(
        {
            "X-Account-Id": caller.account_id,
            "X-Actor": f"api-key:{caller.key_id}",
            "X-Request-Id": trace.request_id,
            "X-Correlation-Id": trace.correlation_id,
        }
    )
    body = _request_body(container.settings["MAX_REQUEST_BYTES"])

    def send(service: str) -> requests.Response:
        # Flask decoded the path: encode each segment again, or a `?` or `#` in an id would end the path
        path = quote(f"/v1/{resource}" + (f"/{rest}" if rest else ""), safe="/")
        url = f"{container.upstreams[service]}{path}"
        return container.upstream_client.call(service, request.method, url, headers, data=body,
                                              params=list(request.args.items(multi=True)),  # repeated ones too
                                              stream=True)

    service, upstream = _first_that_knows(candidates, send)
    if upstream.status_code >= 500 and "problem+json" not in upstream.headers.get("Content-Type", ""):
        upstream.close()
        raise BadUpstreamResponse(f"the {service} service failed ({upstream.status_code}); retry later")
    # Passed on as it arrives, bytes unchanged: a download never sits whole in the gateway's memory.
    response = Response(upstream.raw.stream(STREAMED_CHUNK, decode_content=False), status=upstream.status_code)
    response.call_on_close(upstream.close)
    for name in RETURNED_RESPONSE_HEADERS:
        if name in upstream.headers:
            response.headers[name] = upstream.headers[name]
    return response


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
    answer may hold the job: its error is raised unless another service knows the id.
    """
    unavailable: DependencyUnavailable | None = None
    for service in services:
        try:
            upstream = send(service)
        except DependencyUnavailable as exc:
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
