"""The merged OpenAPI document declares the gateway's Idempotency-Key on every POST, PATCH and DELETE."""
import re

from gateway.domain.idempotency import KEY_PATTERN
from gateway.entrypoints.openapi_merge import declare_idempotency_keys

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def service_document():
    return {
        "paths": {
            "/v1/contacts": {
                "get": {"responses": {"200": {"description": "OK"}}},
                "post": {"parameters": [{"in": "query", "name": "allow_duplicates", "schema": {"type": "boolean"}}],
                         "responses": {"201": {"description": "Created", "headers": {"Location": {"schema": {}}}},
                                       "409": {"description": "Conflict: stale revision or duplicate", "content": PROBLEM},
                                       "422": {"description": "Invalid fields", "content": PROBLEM}}},
            },
            "/v1/contacts/{contact_id}": {
                "patch": {"responses": {"200": {"description": "OK"}, "404": {"description": "Not found"},
                                        "422": {"description": "Invalid fields", "content": PROBLEM}}},
                "delete": {"responses": {"204": {"description": "No content"}}},
                "put": {"responses": {"200": {"description": "OK"}}},
            },
        },
        "components": {"schemas": {}},
    }


def test_every_post_patch_and_delete_takes_the_optional_header_with_its_pattern():
    spec = service_document()
    declare_idempotency_keys(spec)
    parameter = spec["components"]["parameters"]["IdempotencyKey"]
    assert parameter["in"] == "header" and parameter["name"] == "Idempotency-Key" and parameter["required"] is False
    assert parameter["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN}
    assert re.fullmatch(parameter["schema"]["pattern"], "order-1234") and not re.fullmatch(KEY_PATTERN, " x")
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    paths = spec["paths"]
    for op in (paths["/v1/contacts"]["post"], paths["/v1/contacts/{contact_id}"]["patch"],
               paths["/v1/contacts/{contact_id}"]["delete"]):
        assert op["parameters"].count(ref) == 1
    assert paths["/v1/contacts"]["post"]["parameters"][0]["name"] == "allow_duplicates"  # the service's stay
    assert "parameters" not in paths["/v1/contacts"]["get"] and "parameters" not in paths["/v1/contacts/{contact_id}"]["put"]


def test_the_409_and_422_it_can_cause_are_declared_and_replays_are_marked():
    spec = service_document()
    declare_idempotency_keys(spec)
    create = spec["paths"]["/v1/contacts"]["post"]["responses"]
    assert create["409"]["description"].startswith("Conflict: stale revision or duplicate; or a request with this")
    assert "idempotency-key-reused" in create["422"]["description"]
    assert "gone" in create["404"]["description"] and create["404"]["content"] == PROBLEM
    delete = spec["paths"]["/v1/contacts/{contact_id}"]["delete"]["responses"]
    assert set(delete) == {"204", "404", "409", "422"} and delete["409"]["content"] == PROBLEM
    for response in (*create.values(), *delete.values()):
        assert response["headers"]["Idempotent-Replayed"] == spec["components"]["headers"]["IdempotentReplayed"]
    assert create["201"]["headers"]["Location"] == {"schema": {}}
    assert spec["components"]["headers"]["IdempotentReplayed"]["schema"] == {"type": "string", "enum": ["true"]}
    assert "headers" not in spec["paths"]["/v1/contacts"]["get"]["responses"]["200"]
