"""The merged OpenAPI document lists the gateway's own webhook routes, with operationIds, schemas, rate limits and
the Idempotency-Key of every write."""
import base64
import json
import re

import pytest

from gateway.domain.webhook_endpoints import SECRET_PREFIX, new_secret
from gateway.entrypoints import api_keys_api
from gateway.testing.merged_document import own_routes_document


@pytest.fixture
def spec():
    return own_routes_document()  # the webhook routes are added to every merged document


def test_the_merged_document_lists_the_webhook_routes(spec):
    paths = spec["paths"]
    assert set(paths["/v1/webhook-endpoints"]) == {"get", "post"}
    assert set(paths["/v1/webhook-endpoints/{endpoint_id}"]) == {"get", "patch", "delete"}
    for path in ("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", "/v1/webhook-endpoints/{endpoint_id}/deliveries",
                 "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver"):
        assert path in paths
    operation_ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert "createWebhookEndpoint" in operation_ids and len(set(operation_ids)) == len(operation_ids)


def test_every_reference_resolves_and_rate_limits_and_idempotency_keys_apply(spec):
    text = json.dumps(spec)
    for kind, name in re.findall(r'"#/components/(\w+)/(\w+)"', text):
        assert name in spec["components"][kind], (kind, name)
    created = spec["paths"]["/v1/webhook-endpoints"]["post"]
    assert "429" in created["responses"] and "422" in created["responses"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in created["parameters"]
    assert "idempotency-key-reused" in created["responses"]["422"]["description"] and "409" in created["responses"]
    assert "contact.created" in spec["components"]["schemas"]["WebhookEndpointInput"]["properties"]["events"]["items"]["enum"]
    assert "webhook_endpoint.disabled" in spec["components"]["schemas"]["WebhookEndpointInput"]["properties"]["events"][
        "items"]["enum"]



def test_the_api_key_writes_take_an_idempotency_key_too():
    spec = own_routes_document(api_keys_api.register)
    writes = [op for path, ops in spec["paths"].items() if path.startswith("/v1/api-keys")
              for method, op in ops.items() if method in ("post", "delete")]
    assert len(writes) == 3
    for op in writes:
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in op["parameters"]
        assert {"409", "422"} <= set(op["responses"])


def test_a_write_with_a_body_documents_the_415_of_a_body_that_is_not_json(spec):
    for path, method in (("/v1/webhook-endpoints", "post"), ("/v1/webhook-endpoints/{endpoint_id}", "patch")):
        assert "415" in spec["paths"][path][method]["responses"], (path, method)
    assert "415" not in spec["paths"]["/v1/webhook-endpoints/{endpoint_id}"]["delete"]["responses"]


def test_building_the_document_again_does_not_add_the_header_twice():
    """The merged document is built again every 30 s: the webhook routes must not gather a header per build."""
    for _ in range(3):
        spec = own_routes_document()
    parameters = spec["paths"]["/v1/webhook-endpoints"]["post"]["parameters"]
    assert parameters.count({"$ref": "#/components/parameters/IdempotencyKey"}) == 1


def test_the_secret_of_the_example_is_shaped_as_the_gateway_makes_one(spec):
    """docs/webhooks.md: the bytes of a secret are the base64 after `whsec_` (32 of them)."""
    example = spec["components"]["schemas"]["WebhookEndpointCreated"]["allOf"][1]["properties"]["secret"]["example"]
    assert example.startswith(SECRET_PREFIX) and len(example) == len(new_secret())
    assert len(base64.b64decode(example.removeprefix(SECRET_PREFIX), validate=True)) == 32
