"""Sending one webhook delivery: signed per the Standard Webhooks spec, to a public address only.

The signature is the `standardwebhooks` library's (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`), one
per secret that signs now, space-separated (receivers accept the delivery when any verifies).

The host is resolved right before connecting, every address it resolves to is checked (domain.webhook_targets),
and the connection goes to the address checked, never to a second resolution: a name cannot resolve to a public
address for the check and to 127.0.0.1 for the connection (DNS rebinding). TLS still verifies the URL's host
name. Redirects are not followed (a 3xx is a failed attempt), proxies from the environment are not used.
"""
from __future__ import annotations

import socket
import threading
import time
from datetime import datetime
from typing import Callable

import requests
from requests.adapters import HTTPAdapter
from standardwebhooks.webhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from gateway.domain.webhook_deliveries import Outcome
from gateway.domain.webhook_targets import ForbiddenTarget, allowed_addresses

Resolver = Callable[[str, int], list[str]]
USER_AGENT = "crm-webhooks/1"


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (empty when it does not resolve)."""
    try:
        return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))
    except (socket.gaierror, UnicodeError):
        return []


def signature_header(msg_id: str, timestamp: datetime, body: str, secrets: list[str]) -> str:
    """The `webhook-signature` value: a `v1,<signature>` per secret, space-separated."""
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets)


def signed_headers(msg_id: str, timestamp: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature_header(msg_id, timestamp, body, secrets),
            "Content-Type": "application/json", "User-Agent": USER_AGENT}


class WebhookSender:
    """Posts deliveries, from any number of threads (a session per thread keeps its connections to receivers)."""

    def __init__(self, timeout_s: float = 10.0, allow_private: bool = False, resolver: Resolver = resolve) -> None:
        self._timeout_s = timeout_s
        self._guard = TargetGuard(resolver, allow_private)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # no proxy from the environment: the checked address is the one reached
            adapter = _GuardedAdapter(self._guard)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        return session

    def send(self, url: str, msg_id: str, timestamp: datetime, body: str, secrets: list[str]) -> Outcome:
        started = time.monotonic()
        try:
            response = self._session().post(url, data=body.encode(), headers=signed_headers(msg_id, timestamp, body, secrets),
                                          timeout=self._timeout_s, allow_redirects=False, stream=True)
            response.close()  # the body is not read: a receiver's answer is its status
            return Outcome(status_code=response.status_code, duration_ms=_ms_since(started))
        except ForbiddenTarget as exc:
            return Outcome(error=f"refused target: {exc}", duration_ms=_ms_since(started))
        except requests.Timeout:
            return Outcome(error=f"no answer within {self._timeout_s:g} s", duration_ms=_ms_since(started))
        except requests.RequestException as exc:
            return Outcome(error=f"could not send: {_kind_of(exc)}", duration_ms=_ms_since(started))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _kind_of(exc: requests.RequestException) -> str:
    """The failure's kind, without its message (which names hosts and addresses)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


class TargetGuard:
    def __init__(self, resolver: Resolver, allow_private: bool) -> None:
        self.resolver = resolver
        self.allow_private = allow_private

    def addresses(self, host: str, port: int) -> list[str]:
        """The allowed addresses of host; ForbiddenTarget otherwise."""
        return allowed_addresses(self.resolver(host, port), self.allow_private)


def _guarded(connection_class: type, guard: TargetGuard) -> type:
    """A urllib3 connection class that connects to an address the guard allowed, tried in turn."""

    class Guarded(connection_class):
        def _new_conn(self) -> socket.socket:
            last_error: Exception | None = None
            name = self._dns_host
            for address in guard.addresses(self.host, self.port):
                # urllib3 connects to _dns_host; it is the name again once connected, for the Host header and
                # for TLS (server name and certificate check)
                self._dns_host = address
                try:
                    return super()._new_conn()
                except Exception as exc:  # the next address may answer
                    last_error = exc
                finally:
                    self._dns_host = name
            raise last_error

    return Guarded


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: TargetGuard) -> None:
        self._guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        guard = self._guard
        http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": _guarded(HTTPConnection, guard)})
        https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,),
                          {"ConnectionCls": _guarded(HTTPSConnection, guard)})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
