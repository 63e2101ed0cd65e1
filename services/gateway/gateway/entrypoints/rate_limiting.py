"""Rate limits on every /v1 request: the key and account of an authenticated one, the client address of one that
failed to authenticate.

The client address is the socket's peer, or, behind TRUSTED_PROXY_COUNT proxies, what the nearest of them
says in X-Forwarded-For (werkzeug's ProxyFix, installed by the app factory): a client cannot choose it.
"""
from __future__ import annotations

from flask import Response, g, request

from crm_platform.errors import Unauthorized

from gateway.adapters.accounts import Caller
from gateway.bootstrap import Container
from gateway.domain.rate_limits import RateLimited, TooManyFailedAuthentications, limit_header, policy_header
from gateway.entrypoints.auth import authenticate


def admitted_caller(container: Container) -> Caller:
    """The authenticated caller, counted; 429 when it is over a limit, or when it failed to authenticate from an
    address that failed too often (a valid key is never refused for its address: behind a proxy that is not
    trusted, every client shares one). Counted once per request, however many times it is asked for (an own write
    asks before claiming its Idempotency-Key, its view again, and a replay's read-back again)."""
    if "admitted_caller" in g:
        return g.admitted_caller
    limiter = container.rate_limiter
    g.rate_limit_policies, g.rate_limits = (limiter.limits.auth_failures,), ()
    try:
        caller = authenticate(container.accounts)
    except Unauthorized:
        failed = limiter.note_failure(request.remote_addr or "unknown")
        g.rate_limits = (failed,)
        if failed.exceeded:
            raise TooManyFailedAuthentications(failed) from None
        raise
    g.rate_limit_policies = limiter.limits.of_a_caller
    g.rate_limits = limiter.charge(caller.key_id, caller.account_id)
    if any(usage.exceeded for usage in g.rate_limits):
        raise RateLimited(g.rate_limits)
    g.admitted_caller = caller
    return caller


def stamp_headers(response: Response) -> Response:
    """The policies that applied to the request and what is left of each, on its answer whatever it is
    (after_request hook; none on what is not rate-limited: probes, the API's description)."""
    policies = g.get("rate_limit_policies")
    if policies:
        response.headers["RateLimit-Policy"] = policy_header(policies)
        if g.rate_limits:
            response.headers["RateLimit"] = limit_header(g.rate_limits)
    return response
