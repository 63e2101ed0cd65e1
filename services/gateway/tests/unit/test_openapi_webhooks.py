"""The merged OpenAPI document lists the gateway's own webhook routes, with operationIds, schemas, rate limits and
no Idempotency-Key (those routes do not replay one)."""
import json
import re
from types import SimpleNamespace

import pytest
from flask import Flask

from gateway.entrypoints import openapi_merge


@pytest.fixture
def spec(monkeypatch):
    monkeypatch.setattr(openapi_merge, "_CACHE", {"at": 0.0, "spec": None})
    with Flask("gateway-openapi-test").app_context():  # the merged document adds the app's own routes too
        return openapi_merge.merged_spec(SimpleNamespace(upstreams={}, upstream_client=None))


def test_the_merged_document_lists_the_webhook_routes(spec):
    paths = spec["paths"]
    assert set(paths["/v1/webhook-endpoints"]) == {"get", "post"}
    assert set(paths["/v1/webhook-endpoints/{endpoint_id}"]) == {"get", "patch", "delete"}
    for path in ("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", "/v1/webhook-endpoints/{endpoint_id}/deliveries",
                 "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver"):
        assert path in paths
    operation_ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert "createWebhookEndpoint" in operation_ids and len(set(operation_ids)) == len(operation_ids)


def test_every_reference_resolves_and_rate_limits_apply_but_not_idempotency_keys(spec):
    text = json.dumps(spec)
    for kind, name in re.findall(r'"#/components/(\w+)/(\w+)"', text):
        assert name in spec["components"][kind], (kind, name)
    created = spec["paths"]["/v1/webhook-endpoints"]["post"]
    assert "429" in created["responses"] and "422" in created["responses"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} not in created.get("parameters", [])
    assert "contact.created" in spec["components"]["schemas"]["WebhookEndpointInput"]["properties"]["events"]["items"]["enum"]

