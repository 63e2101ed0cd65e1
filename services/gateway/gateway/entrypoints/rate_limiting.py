"""Rate limits on every /v1 request: failed authentications per client address first, then the key and account.

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
    """The authenticated caller, counted; 429 when its address failed too often, or it is over a limit."""
    limiter = container.rate_limiter
    address = request.remote_addr or "unknown"
    g.rate_limit_policies, g.rate_limits = (limiter.limits.auth_failures,), ()
    throttled = limiter.address_throttled(address)
    if throttled is not None:  # refused before any key is looked at: guessing stays slow
        g.rate_limits = (throttled,)
        raise TooManyFailedAuthentications(throttled)
    try:
        caller = authenticate(container.accounts)
    except Unauthorized:
        failed = limiter.note_failure(address)
        g.rate_limits = () if failed is None else (failed,)
        raise
    g.rate_limit_policies, g.rate_limits = limiter.limits.of_a_caller, ()
    g.rate_limits = limiter.charge(caller.key_id, caller.account_id)
    if any(usage.exceeded for usage in g.rate_limits):
        raise RateLimited(g.rate_limits)
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
