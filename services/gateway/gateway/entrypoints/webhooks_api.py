"""/v1/webhook-endpoints: the gateway's own resource (not proxied), each request scoped to the caller's account.

`read` lists and reads, `write` changes (the scopes of every other /v1 request, by method).
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for
from marshmallow import ValidationError, fields, validate, validates_schema

from crm_platform.http_schemas import PageQuerySchema, StrictSchema
from crm_platform.web import current_container, json_body

from gateway.adapters.accounts import Caller
from gateway.domain.webhook_endpoints import MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH
from gateway.entrypoints import auth, idempotency, rate_limiting
from gateway.service_layer import webhook_endpoints as handlers

RESOURCE = "webhook-endpoints"
MAX_EVENT_TYPES = 100

blueprint = Blueprint("webhooks", __name__, url_prefix=f"/v1/{RESOURCE}")


def _url(**options) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=MAX_URL_LENGTH), **options)


def _events(**options) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                       validate=validate.Length(min=1, max=MAX_EVENT_TYPES), **options)


class CreateEndpointSchema(StrictSchema):
    url = _url(required=True)
    events = _events(required=True, metadata={"description": "event types (docs/webhooks.md), or [\"*\"] for all"})
    description = fields.String(load_default="", validate=validate.Length(max=MAX_DESCRIPTION_LENGTH))


class UpdateEndpointSchema(StrictSchema):
    url = _url()
    events = _events()
    description = fields.String(validate=validate.Length(max=MAX_DESCRIPTION_LENGTH))
    enabled = fields.Boolean()

    @validates_schema
    def _not_empty(self, data: dict, **kwargs) -> None:
        if not data:
            raise ValidationError("name at least one of url, events, description, enabled", "_schema")


def _caller() -> Caller:
    caller = rate_limiting.admitted_caller(current_container())
    auth.check_scope(caller, RESOURCE)
    return caller


def _ports() -> handlers.WebhookPorts:
    return current_container().webhooks


@blueprint.post("")
@idempotency.once_per_key(_caller)
def create_endpoint():
    caller = _caller()
    data = CreateEndpointSchema().load(json_body())
    endpoint, secret = handlers.register(handlers.RegisterEndpoint(caller.account_id, data["url"], data["events"],
                                                                   data["description"]), _ports())
    response = jsonify({**endpoint.public(), "secret": secret})
    response.status_code = 201
    response.headers["Location"] = url_for("webhooks.get_endpoint", endpoint_id=endpoint.id)
    return response


@blueprint.get("")
def list_endpoints():
    caller = _caller()
    return jsonify({"items": [endpoint.public() for endpoint in _ports().endpoints.of_account(caller.account_id)]})


@blueprint.get("/<endpoint_id>")
def get_endpoint(endpoint_id: str):
    caller = _caller()
    return jsonify(handlers.get(caller.account_id, endpoint_id, _ports()).public())


@blueprint.patch("/<endpoint_id>")
@idempotency.once_per_key(_caller)
def update_endpoint(endpoint_id: str):
    caller = _caller()
    changes = UpdateEndpointSchema().load(json_body())
    response = jsonify(handlers.update(caller.account_id, endpoint_id, changes, _ports()).public())
    # what a replay (Idempotency-Key) reads back: the endpoint as it is then
    response.headers["Content-Location"] = url_for("webhooks.get_endpoint", endpoint_id=endpoint_id)
    return response


@blueprint.delete("/<endpoint_id>")
@idempotency.once_per_key(_caller)
def delete_endpoint(endpoint_id: str):
    caller = _caller()
    handlers.delete(caller.account_id, endpoint_id, _ports())
    return Response(status=204)


@blueprint.post("/<endpoint_id>/rotate-secret")
@idempotency.once_per_key(_caller)
def rotate_secret(endpoint_id: str):
    caller = _caller()
    secret, previous_until = handlers.rotate_secret(caller.account_id, endpoint_id, _ports())
    return jsonify({"secret": secret, "previous_secret_expires_at": previous_until.isoformat()})


@blueprint.get("/<endpoint_id>/deliveries")
def list_deliveries(endpoint_id: str):
    caller = _caller()
    query = PageQuerySchema().load(request.args)
    page, next_cursor = handlers.deliveries(caller.account_id, endpoint_id, query["limit"], query["cursor"], _ports())
    return jsonify({"items": [delivery.public() for delivery in page], "next_cursor": next_cursor})


@blueprint.get("/<endpoint_id>/deliveries/<delivery_id>")
def get_delivery(endpoint_id: str, delivery_id: str):
    caller = _caller()
    delivery, attempts = handlers.delivery(caller.account_id, endpoint_id, delivery_id, _ports())
    return jsonify(delivery.public(log=attempts))


@blueprint.post("/<endpoint_id>/deliveries/<delivery_id>/redeliver")
@idempotency.once_per_key(_caller)
def redeliver(endpoint_id: str, delivery_id: str):
    caller = _caller()
    delivery = handlers.redeliver(caller.account_id, endpoint_id, delivery_id, _ports())
    response = jsonify(delivery.public())
    response.status_code = 202
    response.headers["Content-Location"] = url_for("webhooks.get_delivery", endpoint_id=endpoint_id,
                                                   delivery_id=delivery_id)
    return response
