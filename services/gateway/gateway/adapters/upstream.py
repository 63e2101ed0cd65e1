"""HTTP calls from the gateway to the services behind it, with failures turned into typed errors."""
from __future__ import annotations

import os
import threading
import time
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from crm_platform.errors import DependencyUnavailable


class UpstreamNotReached(DependencyUnavailable):
    """No connection to the service could be opened: the request was not sent, so it did not run there."""


class UpstreamTimeout(DependencyUnavailable):
    status = 504
    title = "Gateway timeout"
    slug = "upstream-timeout"


class BadUpstreamResponse(DependencyUnavailable):
    status = 502
    title = "Bad gateway"
    slug = "bad-upstream-response"


class UpstreamFailed(BadUpstreamResponse):
    """The service answered that it failed (a 5xx that is not a problem of its own)."""


class UpstreamClient:
    """One pooled HTTP session per process, thread and service."""

    def __init__(self, internal_token: str, timeout_s: float, connect_timeout_s: float = 2.0) -> None:
        self._token = internal_token
        self._timeout = (connect_timeout_s, timeout_s)
        self._local = threading.local()

    @property
    def longest_call_s(self) -> float:
        """The longest a call waits before it gives up (connecting, then between two bytes of the answer)."""
        return sum(self._timeout)

    def _session(self, url: str) -> requests.Session:
        """This thread's session for the service at `url` (one per origin, so that one can be dropped alone)."""
        if getattr(self._local, "pid", None) != os.getpid():
            self._local.sessions, self._local.used_at, self._local.pid = {}, {}, os.getpid()
        origin = _origin(url)
        session = self._local.sessions.get(origin)
        if session is None:
            session = self._local.sessions[origin] = requests.Session()
            # The services are reached at the URLs configured, never through a proxy of the environment
            # (HTTP_PROXY without a NO_PROXY for them would send every call out through it), nor with .netrc
            # credentials. It also spares every call requests' reading of the environment and of ~/.netrc: 8 % of
            # the gateway's CPU at 50 writes a second (py-spy --gil, 2026-12-05).
            session.trust_env = False
        return session

    def _fresh_for_a_write(self, url: str, session: requests.Session) -> None:
        """Drop the session's pooled connections if idle long enough for the service to be closing them now.

        gunicorn closes a keep-alive connection idle for its `keepalive` seconds (crm_platform.gunicorn_config). A
        request sent on it just as it closes fails with no answer, and a write is never sent twice (it may have run):
        the API answered 503 "closed the connection" to a note's POST once in about 5,500 under load (the privacy
        benchmark's seeding, 2026-12-04). A write therefore goes on a connection used less than
        REUSE_FOR_A_WRITE_WITHIN_S ago, well inside the keep-alive, or on a new one (about a millisecond here)."""
        used_at = self._local.used_at.get(_origin(url))
        if used_at is not None and time.monotonic() - used_at > REUSE_FOR_A_WRITE_WITHIN_S:
            session.close()  # a closed requests session opens new connections on its next request

    def call(self, service: str, method: str, url: str, headers: dict, timeout_s: float | None = None,
             **kwargs) -> requests.Response:
        """Send a request to a service; UpstreamNotReached if it was not sent, DependencyUnavailable (UpstreamTimeout:
        504, BadUpstreamResponse: 502) if it was sent and got no valid answer. `timeout_s` shortens both waits
        (connecting, then between two bytes of the answer) for this call."""
        headers = {**headers, "X-Internal-Token": self._token}
        timeout = self._timeout if timeout_s is None else tuple(min(wait, timeout_s) for wait in self._timeout)
        try:
            return self._send(method, url, headers, timeout, kwargs)
        except requests.ConnectionError as exc:  # a ConnectTimeout is one too, and a Timeout: tell it apart first
            if isinstance(exc, requests.ConnectTimeout) or _no_connection_opened(exc):
                raise UpstreamNotReached(f"the {service} service is unreachable; retry later") from None
            # the connection dropped after the request went out: it may have run
            raise DependencyUnavailable(f"the {service} service closed the connection; retry later") from None
        except requests.Timeout:  # a read timeout: the request went out, no answer came in time
            raise UpstreamTimeout(f"the {service} service did not answer in time; retry later") from None
        except requests.RequestException as exc:
            raise BadUpstreamResponse(f"the {service} service sent an invalid response ({type(exc).__name__})") from None


    def _send(self, method: str, url: str, headers: dict, timeout: tuple, kwargs: dict) -> requests.Response:
        """The request, sent once more on a new connection if a read (GET, HEAD, OPTIONS) met a connection the
        service closed: a pooled keep-alive connection the service's server closed while idle (gunicorn after its
        keep-alive seconds) fails the next request sent on it before any answer, and a read is safe to send again.
        A write is never sent twice: it may have run."""
        session = self._session(url)
        safe = method.upper() in SAFE_METHODS
        if not safe:
            self._fresh_for_a_write(url, session)
        started = time.monotonic()
        try:
            return session.request(method, url, headers=headers, timeout=timeout, allow_redirects=False, **kwargs)
        except requests.ConnectionError as exc:
            if not safe or isinstance(exc, requests.ConnectTimeout) \
                    or _no_connection_opened(exc) or time.monotonic() - started > STALE_CONNECTION_FAILS_WITHIN_S:
                raise  # a drop after a while is the service failing, not a stale connection: the call stays bounded
            return session.request(method, url, headers=headers, timeout=timeout, allow_redirects=False, **kwargs)
        finally:
            self._local.used_at[_origin(url)] = time.monotonic()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STALE_CONNECTION_FAILS_WITHIN_S = 0.5  # a connection the server closed while idle fails a request at once
REUSE_FOR_A_WRITE_WITHIN_S = 2.0  # well inside the services' gunicorn keep-alive (crm_platform.gunicorn_config)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _no_connection_opened(exc: requests.ConnectionError) -> bool:
    """Refused, or no such host: requests wraps urllib3's NewConnectionError (raised before anything is sent)."""
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)
