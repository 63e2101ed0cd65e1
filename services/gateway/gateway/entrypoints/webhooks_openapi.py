"""The OpenAPI description of /v1/webhook-endpoints (the gateway's own routes, in the merged document)."""
from __future__ import annotations

import copy

from crm_platform.openapi_examples import EXAMPLE_WEBHOOK_SECRET

from gateway.domain.webhook_deliveries import STATES
from gateway.domain.webhook_endpoints import MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH
from gateway.domain.webhook_events import PUBLIC_TYPES, WILDCARD

TAG = "webhooks"
BASE = "/v1/webhook-endpoints"
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {**DATE_TIME, "nullable": True}
EVENT_TYPES = {"type": "array", "minItems": 1, "maxItems": 100,
               "items": {"type": "string", "enum": sorted(PUBLIC_TYPES) + [WILDCARD]},
               "description": "the event types to receive, or [\"*\"] for all (docs/webhooks.md)"}
URL = {"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH,
       "description": "http(s), no credentials; its host must resolve to public addresses only"}

SCHEMAS = {
    "WebhookEndpointInput": {"type": "object", "required": ["url", "events"], "additionalProperties": False,
                             "properties": {"url": URL, "events": EVENT_TYPES,
                                            "description": {"type": "string", "maxLength": MAX_DESCRIPTION_LENGTH}}},
    "WebhookEndpointPatch": {"type": "object", "minProperties": 1, "additionalProperties": False,
                             "properties": {"url": URL, "events": EVENT_TYPES, "enabled": {"type": "boolean"},
                                            "description": {"type": "string", "maxLength": MAX_DESCRIPTION_LENGTH}}},
    "WebhookEndpoint": {"type": "object", "properties": {
        "id": {"type": "string"}, "url": {"type": "string"}, "events": {"type": "array", "items": {"type": "string"}},
        "description": {"type": "string"}, "enabled": {"type": "boolean"},
        "disabled_reason": {"type": "string", "nullable": True}, "disabled_at": NULLABLE_DATE_TIME,
        "created_at": DATE_TIME, "updated_at": DATE_TIME}},
    "WebhookEndpointCreated": {"allOf": [{"$ref": "#/components/schemas/WebhookEndpoint"}, {
        "type": "object", "properties": {"secret": {"type": "string", "example": EXAMPLE_WEBHOOK_SECRET,
                                                    "description": "shown this once; verifies signatures"}}}]},
    "WebhookEndpointList": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookEndpoint"}}}},
    "WebhookSecretRotated": {"type": "object", "properties": {
        "secret": {"type": "string"}, "previous_secret_expires_at": DATE_TIME}},
    "WebhookDelivery": {"type": "object", "properties": {
        "id": {"type": "string"}, "event_id": {"type": "string"}, "event_type": {"type": "string"},
        "state": {"type": "string", "enum": list(STATES)}, "attempts": {"type": "integer"},
        "last_status_code": {"type": "integer", "nullable": True}, "last_error": {"type": "string", "nullable": True},
        "last_attempt_at": NULLABLE_DATE_TIME, "next_attempt_at": NULLABLE_DATE_TIME, "created_at": DATE_TIME,
        "log": {"type": "array", "description": "on a single delivery: its latest attempts, newest first",
                "items": {"type": "object", "properties": {
                    "at": DATE_TIME, "status_code": {"type": "integer", "nullable": True},
                    "error": {"type": "string", "nullable": True}, "duration_ms": {"type": "integer"}}}}}},
    "WebhookDeliveryPage": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}},
        "next_cursor": {"type": "string", "nullable": True}}},
}


def _json(schema: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _operation(operation_id: str, summary: str, answers: dict, body: str | None = None, parameters=()) -> dict:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses = {status: ({"description": description, "content": _json(schema)} if schema
                          else {"description": description}) for status, (description, schema) in answers.items()}
    # as every service's operations (crm_platform.openapi): any call may meet a URL too long, text that cannot be
    # stored, an outage
    refusals = {"401": "No valid API key", "403": "The API key lacks the scope this request needs",
                "414": "URL too long", "422": "Invalid input: `errors` names each field", "500": "Unexpected error",
                "503": "A dependency is unavailable; retry later"}
    if parameters:
        refusals["404"] = "No such endpoint (or delivery) in this account"
    if body:
        refusals["415"] = "The body is not JSON (Content-Type application/json)"
    for status, why in refusals.items():
        responses.setdefault(status, {"description": why, "content": problem})
    operation = {"operationId": operation_id, "summary": summary, "tags": [TAG], "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    if parameters:
        operation["parameters"] = list(parameters)
    return operation


def _path_parameter(name: str, max_length: int) -> dict:
    return {"in": "path", "name": name, "required": True, "schema": {"type": "string", "maxLength": max_length}}


# an endpoint id is `we_` and 24 hex digits; a delivery id, an event id (at most 64) `:` an endpoint id
ENDPOINT_ID, DELIVERY_ID = _path_parameter("endpoint_id", 64), _path_parameter("delivery_id", 160)
PAGE = ({"in": "query", "name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
        {"in": "query", "name": "cursor", "schema": {"type": "string", "maxLength": 1000}})

PATHS = {
    BASE: {
        "post": _operation("createWebhookEndpoint", "Register a webhook endpoint (its secret is shown once)",
                           {"201": ("Created", "WebhookEndpointCreated")}, body="WebhookEndpointInput"),
        "get": _operation("listWebhookEndpoints", "The account's webhook endpoints",
                          {"200": ("The endpoints, oldest first", "WebhookEndpointList")}),
    },
    BASE + "/{endpoint_id}": {
        "get": _operation("getWebhookEndpoint", "A webhook endpoint", {"200": ("The endpoint", "WebhookEndpoint")},
                          parameters=[ENDPOINT_ID]),
        "patch": _operation("updateWebhookEndpoint", "Change url, events, description or enabled",
                            {"200": ("The endpoint", "WebhookEndpoint")}, body="WebhookEndpointPatch",
                            parameters=[ENDPOINT_ID]),
        "delete": _operation("deleteWebhookEndpoint", "Delete an endpoint: nothing more is sent to it",
                             {"204": ("Deleted", None)}, parameters=[ENDPOINT_ID]),
    },
    BASE + "/{endpoint_id}/rotate-secret": {
        "post": _operation("rotateWebhookEndpointSecret", "A new secret; the previous one signs too for 24 hours",
                           {"200": ("The new secret", "WebhookSecretRotated")}, parameters=[ENDPOINT_ID]),
    },
    BASE + "/{endpoint_id}/deliveries": {
        "get": _operation("listWebhookDeliveries", "The endpoint's deliveries, newest first",
                          {"200": ("A page of deliveries", "WebhookDeliveryPage")}, parameters=[ENDPOINT_ID, *PAGE]),
    },
    BASE + "/{endpoint_id}/deliveries/{delivery_id}": {
        "get": _operation("getWebhookDelivery", "A delivery and its latest attempts",
                          {"200": ("The delivery", "WebhookDelivery")}, parameters=[ENDPOINT_ID, DELIVERY_ID]),
    },
    BASE + "/{endpoint_id}/deliveries/{delivery_id}/redeliver": {
        "post": _operation("redeliverWebhookDelivery", "Send a delivery again now, with a new series of retries",
                           {"202": ("Pending again", "WebhookDelivery")}, parameters=[ENDPOINT_ID, DELIVERY_ID]),
    },
}

PROBLEM = {"type": "object", "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "errors": {"type": "object"}}}


def declare_webhook_endpoints(spec: dict) -> None:
    """Add the webhook endpoints' paths and schemas (and a Problem schema when no service gave one)."""
    spec["paths"].update(copy.deepcopy(PATHS))  # copies: the merge adds parameters and answers to each build's
    schemas = spec["components"]["schemas"]
    schemas.update(copy.deepcopy(SCHEMAS))
    schemas.setdefault("Problem", PROBLEM)
    spec.setdefault("tags", []).append({"name": TAG, "description": "Push notifications of events (docs/webhooks.md)"})
