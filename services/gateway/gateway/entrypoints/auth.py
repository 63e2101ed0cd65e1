"""Authentication of every public request: a Bearer API key resolves to exactly one account; and what the key's
scopes let it do."""
from __future__ import annotations

from flask import request

from crm_platform.errors import Forbidden, Unauthorized

from gateway.adapters.accounts import AccountDirectory, Caller
from gateway.domain.api_keys import required_scope


def authenticate(directory: AccountDirectory) -> Caller:
    """Who is calling (account and key) according to the request's API key; Unauthorized (401) otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("send your API key as `Authorization: Bearer <key>`")
    caller = directory.authenticate(presented.strip())
    if caller is None:
        raise Unauthorized("the API key is not valid")
    return caller


def check_scope(caller: Caller, resource: str) -> None:
    """Forbidden (403 naming `required_scope`) unless the caller's key has the scope this request needs on
    `resource` (the first path segment under /v1/)."""
    needed = required_scope(request.method, resource)
    if needed not in caller.scopes:
        raise Forbidden(f"this API key lacks the `{needed}` scope this request needs", required_scope=needed)
