"""The routes the gateway serves itself (/v1/api-keys, /v1/webhook-endpoints), among the proxy's catch-all rules.

The proxy's rules (`/v1/<resource>`, `/v1/<resource>/<path:rest>`) match every path and method, so werkzeug's
own answers would be wrong for these resources: a method they lack would reach the proxy (no service: 404),
and an OPTIONS would list every method the proxy takes. Here, what the gateway's own routes take at a path
answers both: a 405 with their Allow, and the Allow of an OPTIONS.
"""
from __future__ import annotations

from flask import Response, current_app, request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import Map, Rule

PROXY_ENDPOINTS = frozenset({"proxy", "proxy_root"})


def allowed_methods(path: str) -> set[str]:
    """The methods the gateway's routes other than the proxy's take at `path` (none: no such route)."""
    own = Map([Rule(rule.rule, methods=rule.methods, endpoint=rule.endpoint)
               for rule in current_app.url_map.iter_rules() if rule.endpoint not in PROXY_ENDPOINTS])
    return own.bind("").allowed_methods(path)


def refuse_unrouted(path: str) -> None:
    """For the proxy, which gets what no other route took: a 405 naming the methods the path takes here
    (`PUT /v1/webhook-endpoints`), or nothing when no route has the path (then it is no resource: 404)."""
    allowed = allowed_methods(path)
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))


def options_response() -> Response:
    """The answer to OPTIONS on a route with automatic OPTIONS (Flask's make_default_options_response): the
    methods of the routes at the path, without the proxy's."""
    response = current_app.response_class(status=200)
    response.allow.update(allowed_methods(request.path))
    return response
