"""RFC 9457 problem details (`application/problem+json`) for every error a client can see."""
from __future__ import annotations

from flask import Response, json

from crm_platform import request_context

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(status: int, title: str, detail: str, slug: str, headers: dict | None = None, **extra) -> Response:
    """A problem+json response; `type` is a relative URI documented in the README."""
    body = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_context.current().request_id,
        **{k: v for k, v in extra.items() if v is not None},
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
