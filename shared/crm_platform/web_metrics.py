"""Request metrics of an API and its /metrics endpoint, installed by `create_service_app`.

Requests are counted under their route template (`/v1/contacts/<contact_id>`), never the raw path:
ids would make a series per contact, and a path can hold what a person typed. Under gunicorn each
worker writes its values to PROMETHEUS_MULTIPROC_DIR (set up by crm_platform.gunicorn_config) and
/metrics sums every worker's, whichever worker answers the scrape.

/metrics answers only `Authorization: Bearer <token>` (the service's METRICS_TOKEN, passed in by its
create_app): giving Prometheus the internal token would let whoever reads its configuration call every
service as the gateway. Without a token the endpoint is off (404); the gateway, whose listener is public,
passes one only with GATEWAY_SERVES_METRICS (failed attempts are not throttled: keep /metrics off the
Ingress, docs/operations.md).
"""
from __future__ import annotations

import hmac
import logging
import os
import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from crm_platform.errors import NotFound, Unauthorized
from crm_platform.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS

log = logging.getLogger(__name__)
METRICS_PATH = "/metrics"
UNMATCHED_ROUTE = "<unmatched>"  # a 404 for a path no route has, or a request refused before routing
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def install_request_metrics(app: Flask, service: str, token: str | None, unmeasured: frozenset[str]) -> None:
    """Count and time every request but those to `unmeasured` paths (probes) and /metrics; serve /metrics."""

    @app.before_request
    def _start_clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        if request.path in unmeasured or request.path == METRICS_PATH:
            return response
        try:
            labels = (service, route_template(), method_label(request.method), str(response.status_code))
            HTTP_REQUESTS.labels(*labels).inc()
            started = g.get("metrics_started")
            if started is not None:  # None: refused by a hook before the clock started; no time to tell
                HTTP_REQUEST_DURATION.labels(*labels).observe(time.perf_counter() - started)
        except Exception:  # a metric must never fail a request (a full disk under PROMETHEUS_MULTIPROC_DIR...)
            log.warning("request not recorded in the metrics", exc_info=True)
        return response

    @app.get(METRICS_PATH)
    def metrics() -> Response:
        if not token:
            raise NotFound("metrics are off: set METRICS_TOKEN to serve them")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("/metrics needs Authorization: Bearer <METRICS_TOKEN>")
        return Response(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)


def route_template() -> str:
    """The rule the request matched, e.g. /v1/contacts/<contact_id>; UNMATCHED_ROUTE if none did."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE


def method_label(method: str) -> str:
    """The method, or `other`: a client may send any token as a method, and each would be a new series."""
    return method if method in KNOWN_METHODS else "other"


def scrape_registry():
    """Every gunicorn worker's values summed (multiprocess mode), or this process's own."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return registry
