"""/v1/api-keys: an account manages its API keys itself, with a key that has the `admin` scope.

Served by the gateway (no service behind it): authenticated and rate-limited like every /v1 request, then
scoped to the caller's account (another account's key is a 404, as one that never was).
"""
from __future__ import annotations

import logging
from datetime import timedelta, timezone

from flask import Blueprint, Flask, request, url_for

from crm_platform.errors import InvalidInput, NotFound
from crm_platform.openapi import operation
from crm_platform.web import current_container, json_body

from gateway.adapters.accounts import Caller
from gateway.domain.api_keys import KEY_ID_PATTERN
from gateway.domain.key_records import expiry_problem
from gateway.entrypoints import auth, idempotency, rate_limiting
from gateway.entrypoints.api_keys_schemas import IssuedKeySchema, KeyCreateSchema, KeyListSchema, KeyRotateSchema, \
    KeySchema
from gateway.entrypoints.key_representation import issued_key_view, key_view

log = logging.getLogger(__name__)
RESOURCE = "api-keys"
bp = Blueprint("api_keys", __name__, url_prefix=f"/v1/{RESOURCE}")
TAGS = ["api-keys"]
ADMIN_PROBLEMS = (403, 404)


def register(app: Flask) -> None:
    """Serve /v1/api-keys on the gateway's app, before its proxy routes (whose rules are less specific)."""
    app.register_blueprint(bp)


def _admin() -> Caller:
    """The caller, if its key has `admin` (403 naming `required_scope` otherwise)."""
    caller = rate_limiting.admitted_caller(current_container())
    auth.check_scope(caller, "api-keys")
    return caller


def _checked_id(key_id: str) -> str:
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise NotFound(f"no API key {key_id}")
    return key_id


@bp.get("")
@operation("List the account's API keys (revoked and expired ones too; never a secret)", tags=TAGS,
           responses={200: KeyListSchema}, problems=(403,))
def list_keys():
    caller = _admin()
    return {"items": [key_view(record) for record in current_container().accounts.list_keys(caller.account_id)]}


@bp.post("")
@operation("Create an API key: its secret is in this answer only (403 scopes-not-held for a scope the calling "
           "key lacks)", tags=TAGS, request_schema=KeyCreateSchema, responses={201: IssuedKeySchema},
           problems=(403, 415, 422))
@idempotency.once_per_key(_admin)
def create_key():
    caller = _admin()
    data = KeyCreateSchema().load(json_body())
    accounts = current_container().accounts
    if data["expires_at"] is not None and (problem := expiry_problem(data["expires_at"], accounts.clock())):
        raise InvalidInput("the request has invalid fields; see `errors`", errors={"expires_at": [problem]})
    expires_at = data["expires_at"] and data["expires_at"].astimezone(timezone.utc)  # shown in UTC, as stored
    record, issued = accounts.create_key(caller.account_id, data["name"], tuple(data["scopes"]), expires_at,
                                         granted_by=caller.scopes)
    log.info("API key created", extra={"key_id": record.key_id, "by_key_id": caller.key_id})
    return issued_key_view(record, issued), 201, {"Location": url_for("api_keys.get_key", key_id=record.key_id)}


@bp.get("/<key_id>")
@operation("Read an API key (never its secret)", tags=TAGS, responses={200: KeySchema}, problems=ADMIN_PROBLEMS)
def get_key(key_id: str):
    caller = _admin()
    return key_view(current_container().accounts.get_key(_checked_id(key_id), caller.account_id))


@bp.post("/<key_id>/rotate")
@operation("Give an API key a new secret (in this answer only); its current secret keeps working for "
           "`grace_period_seconds` (default 24 h, at most 7 days), then is refused", tags=TAGS,
           request_schema=KeyRotateSchema, request_required=False,  # no body: the default grace period
           responses={200: IssuedKeySchema}, problems=(403, 404, 409, 415, 422))
@idempotency.once_per_key(_admin)
def rotate_key(key_id: str):
    caller = _admin()
    data = KeyRotateSchema().load(json_body() if request.content_length else {})
    record, issued = current_container().accounts.rotate_key(
        _checked_id(key_id), timedelta(seconds=data["grace_period_seconds"]), caller.account_id,
        granted_by=caller.scopes)
    log.info("API key rotated", extra={"key_id": record.key_id, "by_key_id": caller.key_id})
    return issued_key_view(record, issued)


@bp.delete("/<key_id>")
@operation("Revoke an API key: refused from this moment (409 last-admin-key for the account's last live key with "
           "`admin`)", tags=TAGS, responses={204: None}, problems=(403, 404, 409))
@idempotency.once_per_key(_admin)
def revoke_key(key_id: str):
    caller = _admin()
    current_container().accounts.revoke_key(_checked_id(key_id), caller.account_id)
    log.info("API key revoked", extra={"key_id": key_id, "by_key_id": caller.key_id})
    return "", 204
