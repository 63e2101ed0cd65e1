"""Authentication of every public request: a Bearer API key resolves to exactly one account."""
from __future__ import annotations

from flask import request

from crm_platform.errors import Unauthorized

from gateway.adapters.accounts import AccountDirectory, Caller


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
