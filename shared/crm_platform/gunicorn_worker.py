"""gunicorn's thread worker, answering a request it cannot parse as every other error: application/problem+json.

gunicorn refuses some requests before the app sees them (a request line over `limit_request_line`, too many
or too large headers, a malformed request line) and answers them with an HTML page; every operation of the
OpenAPI documents promises a problem (414 "URL too long" included). This worker answers those refusals with
the same problem body the apps give (crm_platform.problems), and logs the refusal without the request line,
which may carry personal data in its query.
"""
from __future__ import annotations

import json
import ssl

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker

from crm_platform.problems import PROBLEM_MEDIA_TYPE

SERVER_FAULTS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName, errors.ConfigurationProblem)
# (exception, status, reason phrase, problem slug); the first that matches wins.
REFUSALS = (
    (errors.LimitRequestLine, 414, "URI Too Long", "uri-too-long"),
    (errors.LimitRequestHeaders, 431, "Request Header Fields Too Large", "headers-too-large"),
    (errors.UnsupportedTransferCoding, 501, "Not Implemented", "transfer-coding-not-supported"),
    (errors.ExpectationFailed, 417, "Expectation Failed", "expectation-failed"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden", "forbidden"),
    (errors.ParseException, 400, "Bad Request", "malformed-request"),
    (ssl.SSLError, 403, "Forbidden", "forbidden"),
)
DETAILS = {
    414: "The request line (method, path and query) is longer than the server accepts.",
    431: "The request has more header fields, or larger ones, than the server accepts.",
}


def refusal_of(exc: BaseException) -> tuple[int, str, str]:
    """The status, reason phrase and problem slug answering a request gunicorn could not parse (500 otherwise)."""
    if isinstance(exc, SERVER_FAULTS):  # a header the app tried to send, a setting: the server's fault
        return 500, "Internal Server Error", "internal-error"
    for kind, status, reason, slug in REFUSALS:
        if isinstance(exc, kind):
            return status, reason, slug
    return 500, "Internal Server Error", "internal-error"


def problem_bytes(status: int, reason: str, slug: str) -> bytes:
    """A complete HTTP/1.1 answer (the connection closes after it) holding the problem."""
    body = json.dumps({"type": f"/problems/{slug}", "title": reason, "status": status,
                       "detail": DETAILS.get(status, reason)}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_MEDIA_TYPE}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class ProblemThreadWorker(ThreadWorker):
    """The gthread worker, with problem+json answers to the requests gunicorn itself refuses."""

    def handle_error(self, req, client, addr, exc):
        status, reason, slug = refusal_of(exc)
        if status == 500:
            self.log.exception("error handling a request")  # no URI: it may carry personal data
        else:
            self.log.warning("refused a request gunicorn could not take: %s %s", status, type(exc).__name__)
        try:
            util.write_nonblock(client, problem_bytes(status, reason, slug))
        except Exception:  # the client went away: nothing to answer
            self.log.debug("could not send the refusal")
