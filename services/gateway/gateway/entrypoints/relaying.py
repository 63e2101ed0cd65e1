"""A service's answer passed on to the client: the headers a client may see, the body as it arrives."""
from __future__ import annotations

import requests
from flask import Response

RETURNED_RESPONSE_HEADERS = ("Content-Type", "Location", "ETag", "Retry-After", "Content-Disposition", "Allow",
                             "Content-Length", "Content-Encoding", "X-Content-Type-Options",
                             "Content-Security-Policy")  # billing's previews: HTML that may run nothing
STREAMED_CHUNK = 64 * 1024


def relayed(upstream: requests.Response, status: int | None = None) -> Response:
    """The answer as it arrives, bytes unchanged (a download never sits whole in the gateway's memory)."""
    response = Response(upstream.raw.stream(STREAMED_CHUNK, decode_content=False), status=status or upstream.status_code)
    response.call_on_close(upstream.close)
    for name in RETURNED_RESPONSE_HEADERS:
        if name in upstream.headers:
            response.headers[name] = upstream.headers[name]
    return response


def read_whole(upstream: requests.Response, status: int | None = None) -> tuple[Response, bytes]:
    """The answer read whole (a small one, e.g. a problem), and its bytes as they came."""
    try:
        body = upstream.content
    finally:
        upstream.close()
    response = Response(body, status=status or upstream.status_code)
    for name in RETURNED_RESPONSE_HEADERS:
        if name in upstream.headers and name not in ("Content-Length", "Content-Encoding"):
            response.headers[name] = upstream.headers[name]
    return response, body
