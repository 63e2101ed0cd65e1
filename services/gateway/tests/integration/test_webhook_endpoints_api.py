"""/v1/webhook-endpoints on the real database: validation at the edge (422 naming the field), scopes, and every
route scoped to the caller's account (another account's id is a 404)."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from gateway.domain.webhook_endpoints import signing_secrets
from gateway.service_layer import webhook_endpoints as handlers
from gateway.testing.scripted_upstreams import gateway
from gateway.testing.webhook_targets import HOOK, fake_dns



@pytest.fixture
def api(infra, unique_suffix, mongo_client):
    """A gateway whose resolver sends every name to a public address (no DNS in tests), and a second account."""
    client, auth, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:9")
    container.webhook_resolver = fake_dns
    _, other_key = container.accounts.create_account("Other")
    yield client, auth, {"Authorization": f"Bearer {other_key.plaintext}"}, container
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def create(client, auth, **body):
    return client.post("/v1/webhook-endpoints", json={"url": HOOK, "events": ["contact.created"], **body}, headers=auth)


def test_an_endpoint_is_created_with_its_secret_shown_once(api):
    client, auth, _, _ = api
    created = create(client, auth, events=["contact.created", "invoice.paid"], description="ERP sync")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["secret"].startswith("whsec_") and body["enabled"] is True
    assert body["events"] == ["contact.created", "invoice.paid"] and body["description"] == "ERP sync"
    assert created.headers["Location"] == f"/v1/webhook-endpoints/{body['id']}"
    shown = client.get(f"/v1/webhook-endpoints/{body['id']}", headers=auth).get_json()
    assert "secret" not in shown and shown["url"] == HOOK
    listed = client.get("/v1/webhook-endpoints", headers=auth).get_json()["items"]
    assert [item["id"] for item in listed] == [body["id"]] and "secret" not in listed[0]


@pytest.mark.parametrize("body, field, says", [
    ({"url": "ftp://hooks.example.com/"}, "url", "http or https"),
    ({"url": "https://user:pw@hooks.example.com/"}, "url", "credentials"),
    ({"url": "https://hooks.example.com/" + "a" * 2050}, "url", "2048"),
    ({"url": "http://localhost:8080/hook"}, "url", "loopback"),
    ({"url": "http://127.0.0.1/hook"}, "url", "loopback"),
    ({"url": "http://10.0.0.8/hook"}, "url", "private"),
    ({"url": "http://metadata.internal/latest"}, "url", "link-local"),
    ({"url": "http://[::1]/hook"}, "url", "loopback"),
    ({"events": ["contact.created", "contact.exploded"]}, "events", "contact.exploded"),
    ({"events": []}, "events", "Length"),
    ({"url": None}, "url", "null"),
    ({"colour": "red"}, "colour", "Unknown"),
])
def test_invalid_input_is_a_422_naming_the_field(api, body, field, says):
    client, auth, _, _ = api
    response = create(client, auth, **body)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert field in errors and says.lower() in str(errors[field]).lower(), errors


def test_a_missing_field_is_named(api):
    client, auth, _, _ = api
    response = client.post("/v1/webhook-endpoints", json={"url": HOOK}, headers=auth)
    assert response.status_code == 422 and "events" in response.get_json()["errors"]


def test_another_accounts_endpoint_is_not_found_on_every_route(api):
    client, auth, other, _ = api
    endpoint_id = create(client, auth).get_json()["id"]
    base = f"/v1/webhook-endpoints/{endpoint_id}"
    for method, path, body in (("get", base, None), ("patch", base, {"enabled": False}), ("delete", base, None),
                               ("post", f"{base}/rotate-secret", None), ("get", f"{base}/deliveries", None),
                               ("post", f"{base}/deliveries/x:{endpoint_id}/redeliver", None)):
        response = getattr(client, method)(path, json=body, headers=other)
        assert response.status_code == 404, (method, path, response.get_json())
    assert client.get("/v1/webhook-endpoints", headers=other).get_json()["items"] == []
    assert client.get(base, headers=auth).get_json()["enabled"] is True  # untouched


def test_a_read_only_key_lists_but_does_not_change(api):
    client, auth, _, container = api
    create(client, auth)
    account_id = container.accounts.authenticate(auth["Authorization"].split(" ")[1]).account_id
    reader = {"Authorization": f"Bearer {container.accounts.issue_key(account_id, ('read',)).plaintext}"}
    assert client.get("/v1/webhook-endpoints", headers=reader).status_code == 200
    refused = create(client, reader)
    assert refused.status_code == 403 and refused.get_json()["required_scope"] == "write"


def test_no_key_is_a_401(api):
    client, _, _, _ = api
    assert create(client, {}).status_code == 401


def test_patch_changes_what_it_names_and_validates_it(api):
    client, auth, _, _ = api
    endpoint_id = create(client, auth).get_json()["id"]
    path = f"/v1/webhook-endpoints/{endpoint_id}"
    changed = client.patch(path, json={"events": ["*"], "enabled": False}, headers=auth).get_json()
    assert changed["events"] == ["*"] and changed["enabled"] is False and changed["url"] == HOOK
    refused = client.patch(path, json={"url": "http://127.0.0.1:1/"}, headers=auth)
    assert refused.status_code == 422 and "url" in refused.get_json()["errors"]
    assert client.patch(path, json={}, headers=auth).status_code == 422


def test_rotating_the_secret_returns_a_new_one_and_the_previous_ones_end(api):
    client, auth, _, _ = api
    created = create(client, auth).get_json()
    rotated = client.post(f"/v1/webhook-endpoints/{created['id']}/rotate-secret", headers=auth)
    assert rotated.status_code == 200
    assert rotated.get_json()["secret"].startswith("whsec_") and rotated.get_json()["secret"] != created["secret"]
    assert rotated.get_json()["previous_secret_expires_at"]


def test_a_deleted_endpoint_is_gone(api):
    client, auth, _, _ = api
    endpoint_id = create(client, auth).get_json()["id"]
    assert client.delete(f"/v1/webhook-endpoints/{endpoint_id}", headers=auth).status_code == 204
    assert client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=auth).status_code == 404
    assert client.delete(f"/v1/webhook-endpoints/{endpoint_id}", headers=auth).status_code == 404


def test_a_method_the_routes_lack_is_a_405_naming_those_they_take(api):
    client, auth, _, _ = api
    refused = client.put("/v1/webhook-endpoints", json={}, headers=auth)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.put("/v1/webhook-endpoints/we_1", headers=auth).headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
    assert client.get("/v1/webhook-endpoints/we_1/nothing-here", headers=auth).status_code == 404


def test_options_names_the_methods_of_the_gateways_own_routes_not_the_proxys(api):
    client, auth, _, _ = api
    for path, methods in (("/v1/webhook-endpoints", "GET, HEAD, OPTIONS, POST"),
                          ("/v1/webhook-endpoints/we_1", "DELETE, GET, HEAD, OPTIONS, PATCH"),
                          ("/v1/webhook-endpoints/we_1/rotate-secret", "OPTIONS, POST"),
                          ("/v1/api-keys", "GET, HEAD, OPTIONS, POST"),
                          ("/v1/api-keys/k_1", "DELETE, GET, HEAD, OPTIONS"),
                          ("/v1/api-keys/k_1/rotate", "OPTIONS, POST")):
        answer = client.options(path, headers=auth)
        assert answer.status_code == 200 and ", ".join(sorted(answer.headers["Allow"].split(", "))) == methods, path
    refused = client.put("/v1/api-keys/k_1/rotate", headers=auth)  # and a method they lack: 405, as for webhooks
    assert refused.status_code == 405 and refused.headers["Allow"] == "OPTIONS, POST"


def test_two_rotations_at_once_both_give_a_secret_that_signs(api):
    """The later rotation builds on the earlier one (its secret becomes the previous one), not on what both read."""
    client, auth, _, container = api
    endpoint_id = create(client, auth).get_json()["id"]
    account_id = container.accounts.authenticate(auth["Authorization"].split(" ")[1]).account_id
    ports = container.webhooks
    read_before_the_other_rotation = ports.endpoints.get(account_id, endpoint_id)
    first, _ = handlers.rotate_secret(account_id, endpoint_id, ports)

    class ReadsFirstWhatItReadBefore:  # as a rotation that read the endpoint just before the other one wrote
        def __init__(self, endpoints):
            self._endpoints, self._stale = endpoints, [read_before_the_other_rotation]

        def get(self, *args):
            return self._stale.pop() if self._stale else self._endpoints.get(*args)

        def __getattr__(self, name):
            return getattr(self._endpoints, name)

    second, _ = handlers.rotate_secret(account_id, endpoint_id,
                                       replace(ports, endpoints=ReadsFirstWhatItReadBefore(ports.endpoints)))
    signing = signing_secrets(ports.endpoints.get(account_id, endpoint_id).secrets, datetime.now(timezone.utc))
    assert second in signing and first in signing
