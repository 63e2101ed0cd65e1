"""HTTP calls from the gateway to the services behind it, with failures turned into typed errors."""
from __future__ import annotations

import os
import threading

import requests

from crm_platform.errors import DependencyUnavailable


class UpstreamTimeout(DependencyUnavailable):
    status = 504
    title = "Gateway timeout"
    slug = "upstream-timeout"


class BadUpstreamResponse(DependencyUnavailable):
    status = 502
    title = "Bad gateway"
    slug = "bad-upstream-response"


class UpstreamClient:
    """One pooled HTTP session per process and thread."""

    def __init__(self, internal_token: str, timeout_s: float, connect_timeout_s: float = 2.0) -> None:
        self._token = internal_token
        self._timeout = (connect_timeout_s, timeout_s)
        self._local = threading.local()

    @property
    def longest_call_s(self) -> float:
        """The longest a call waits before it gives up (connecting, then between two bytes of the answer)."""
        return sum(self._timeout)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None or getattr(self._local, "pid", None) != os.getpid():
            session = requests.Session()
            self._local.session, self._local.pid = session, os.getpid()
        return session

    def call(self, service: str, method: str, url: str, headers: dict, **kwargs) -> requests.Response:
        """Send a request to a service; DependencyUnavailable / UpstreamTimeout if it does not answer."""
        headers = {**headers, "X-Internal-Token": self._token}
        try:
            return self._session().request(method, url, headers=headers, timeout=self._timeout, allow_redirects=False, **kwargs)
        except requests.Timeout:
            raise UpstreamTimeout(f"the {service} service did not answer in time; retry later") from None
        except requests.ConnectionError:
            raise DependencyUnavailable(f"the {service} service is unreachable; retry later") from None
        except requests.RequestException as exc:
            raise BadUpstreamResponse(f"the {service} service sent an invalid response ({type(exc).__name__})") from None
