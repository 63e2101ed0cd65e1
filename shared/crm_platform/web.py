"""The Flask app shell every service is built on: trace ids, problem+json errors, probes.

Services call `create_service_app` from their own `create_app` factory and
register their blueprints on the result.
"""
from __future__ import annotations

import hmac
import logging
import re
import time
from typing import Any, Callable

from flask import Flask, Response, current_app, g, jsonify, request
from marshmallow import ValidationError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, ServerSelectionTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, Map

from crm_platform import request_context
from crm_platform.errors import CrmError, DependencyUnavailable, InvalidInput, NotFound, Unauthorized, UnsupportedMediaType
from crm_platform.input_guard import MAX_JSON_DEPTH, json_problems, shown, text_problem
from crm_platform.json_logging import configure_logging
from crm_platform.mongo import translated
from crm_platform.personal_data import SubjectErased
from crm_platform.problems import problem_response
from crm_platform.web_metrics import METRICS_PATH, install_request_metrics

PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "slug", "headers", "request_id", "errors",
                             "retry_after_s"})

log = logging.getLogger(__name__)
# What a client-given X-Request-Id or X-Correlation-Id may hold: it enters immutable events and every log line.
TRACE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

PROBE_PATHS = frozenset({"/healthz", "/readyz"})
ReadinessCheck = Callable[[], bool]


def create_service_app(
    name: str,
    *,
    required_checks: dict[str, ReadinessCheck],
    reported_checks: dict[str, ReadinessCheck] | None = None,
    internal_token: str | None = None,
    metrics_token: str | None = None,
    log_level: str = "INFO",
) -> Flask:
    """A Flask app with tracing, error mapping and /healthz + /readyz.

    `required_checks` must all pass for /readyz to answer 200; `reported_checks`
    are shown but do not take the instance out of rotation (e.g. Kafka for an
    API whose writes go to the outbox and survive a broker outage).
    When `internal_token` is set, every other path needs `X-Internal-Token`:
    only the gateway, which holds it, may call the service. /metrics counts every
    request by route template and is served to `metrics_token` (the service's METRICS_TOKEN) instead, or
    not at all without one (crm_platform.web_metrics).
    """
    configure_logging(name, log_level)
    app = Flask(name)
    app.json.sort_keys = False
    app.json.ensure_ascii = False  # French names stay readable in responses
    app.url_map.converters["other_than"] = OtherThan
    _install_tracing(app, name)
    install_request_metrics(app, name, metrics_token, unmeasured=PROBE_PATHS)
    if internal_token:
        _install_internal_auth(app, internal_token, PROBE_PATHS | {METRICS_PATH})
    _install_input_guard(app)
    _install_error_handlers(app)
    _install_probes(app, required_checks, reported_checks or {})
    return app


class OtherThan(BaseConverter):
    """A path segment other than the words given: `/stages/<other_than(order):stage_id>` beside `/stages/order`.

    Without it a route of the word (`PUT /stages/order`) and the id route beside it (`PATCH /stages/<stage_id>`)
    both match `/stages/order`, so a PATCH there is sent to the id route and a 405 elsewhere lists the id route's
    methods in its Allow, which the OpenAPI document does not give the word's path (schemathesis' ST205)."""

    def __init__(self, url_map: Map, *words: str) -> None:
        super().__init__(url_map)
        self.regex = "(?!(?:" + "|".join(re.escape(word) for word in words) + ")$)[^/]+"


def current_container() -> Any:
    """The service's container of adapters, which its `create_app` put in `app.extensions["container"]`."""
    return current_app.extensions["container"]


def _install_tracing(app: Flask, service: str) -> None:
    @app.before_request
    def _bind_trace() -> None:
        request_id = _trace_id(request.headers.get("X-Request-Id")) or request_context.new_id()
        trace = request_context.TraceContext(
            request_id=request_id,
            correlation_id=_trace_id(request.headers.get("X-Correlation-Id")) or request_id,
            actor=request.headers.get("X-Actor"),
        )
        g.trace_token = request_context.bind(trace)
        g.started = time.perf_counter()

    @app.after_request
    def _stamp(response: Response) -> Response:
        trace = request_context.current()
        response.headers["X-Request-Id"] = trace.request_id
        response.headers["X-Correlation-Id"] = trace.correlation_id
        if request.path not in PROBE_PATHS:
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
                },
            )
        return response

    @app.teardown_request
    def _unbind(_: BaseException | None) -> None:
        token = g.pop("trace_token", None)
        if token is not None:
            request_context.reset(token)


def _trace_id(value: str | None) -> str | None:
    """A client's request or correlation id, if it is one we may keep in events and logs (else we make our own)."""
    return value if value and TRACE_ID.fullmatch(value) else None


def _install_input_guard(app: Flask) -> None:
    @app.before_request
    def _refuse_unreadable_text() -> None:
        """A path no resource can have is a 404; a query value that cannot be stored, a 422 naming it.

        (Bodies are checked where they are read: json_body here, uploads by their own parsers, which read
        the stream themselves: touching request.form here would consume it.)
        """
        if request.routing_exception is not None:  # no such route (404) or method (405): that answer comes first
            return
        if text_problem(request.path) is not None:
            raise NotFound("no such resource")
        problems = {shown(name): [problem] for name, value in request.args.items(multi=True)
                    if (problem := text_problem(name) or text_problem(value)) is not None}
        if problems:
            raise InvalidInput("a parameter holds text that cannot be stored; see `errors`", errors=problems)


def _install_internal_auth(app: Flask, token: str, open_paths: frozenset[str]) -> None:
    @app.before_request
    def _require_internal_token() -> None:
        if request.path in open_paths:
            return
        given = request.headers.get("X-Internal-Token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("this service only answers the gateway (missing or wrong X-Internal-Token)")


# The database down, unreachable or too slow to answer (AutoReconnect and NetworkTimeout are ConnectionFailures)
DATABASE_UNREACHABLE = (ConnectionFailure, ServerSelectionTimeoutError, ExecutionTimeout)


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(CrmError)
    def _crm_error(exc: CrmError) -> Response:
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if isinstance(exc, DependencyUnavailable):  # other errors with a Retry-After (a key in flight) are the client's
            log.warning("dependency unavailable", extra={"detail": exc.detail})
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = 'Bearer realm="crm"'
        # an error's own members (say an invoice's `status`) never replace the problem's: they would break it
        extra = {**{k: v for k, v in exc.extra.items() if k not in PROBLEM_MEMBERS}, "retry_after_s": retry_after}
        errors = exc.errors if isinstance(exc, InvalidInput) else None
        return problem_response(exc.status, exc.title, exc.detail, exc.slug, headers, errors=errors, **extra)

    @app.errorhandler(SubjectErased)
    def _subject_erased(exc: SubjectErased) -> Response:
        # Sealed data whose key is gone (a person erased meanwhile, a forgotten import): as gone as a read of
        # it finds it. Logged, as a key missing by mistake would look the same; the subject id is not echoed.
        log.warning("sealed data whose key is gone", extra={"route": request.url_rule.rule if request.url_rule else None,
                                                            "error": type(exc).__name__})
        return problem_response(404, "Not found", "what this request needs was erased or has expired: it cannot "
                                "be read or written again", "not-found")

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError) -> Response:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return problem_response(
            422, "Invalid input", "the request has invalid fields; see `errors`", "invalid-input", errors=messages
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        slug = (exc.name or "error").lower().replace(" ", "-")
        allow = dict(exc.get_headers()).get("Allow")  # a 405 says which methods the resource takes
        return problem_response(exc.code or 500, exc.name, exc.description or exc.name, slug,
                                {"Allow": allow} if allow else None)

    @app.errorhandler(PyMongoError)
    def _database_error(exc: PyMongoError) -> Response:
        # A statement outside a unit of work (authenticating a key, a rate-limit counter, a lease) met the
        # database down or unreachable: a 503 with Retry-After, as the units of work answer. Anything else the
        # server said (a query it refused, data it refused) is a bug to see: a 500, never "retry later".
        if isinstance(exc, DATABASE_UNREACHABLE):
            return _crm_error(translated(exc, "the database"))
        return _unexpected(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(500, "Internal error", "an unexpected error occurred; quote the request_id", "internal-error")


def _install_probes(app: Flask, required: dict[str, ReadinessCheck], reported: dict[str, ReadinessCheck]) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify(status="alive")

    @app.get("/readyz")
    def readyz():
        results = {name: ("up" if check() else "down") for name, check in {**required, **reported}.items()}
        ready = all(results[name] == "up" for name in required)
        degraded = any(state == "down" for state in results.values())
        status = "ready" if ready and not degraded else ("degraded" if ready else "unavailable")
        return jsonify(status=status, checks=results), (200 if ready else 503)


def json_body() -> dict:
    """The request's JSON object, or a 415/422 problem saying what is wrong with the body."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise InvalidInput("the body is nested too deeply",
                           errors={"_schema": [f"nested more than {MAX_JSON_DEPTH} levels deep"]}) from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", errors={"_schema": ["must be a JSON object"]})
    if problems := json_problems(data):
        raise InvalidInput("the body holds values that cannot be stored; see `errors`", errors=problems)
    return data


def account_id() -> str:
    """The tenant of the request, set by the gateway after authentication."""
    value = request.headers.get("X-Account-Id", "")
    if not value:
        raise Unauthorized("no account on the request (X-Account-Id is set by the gateway)")
    return value
