"""The gateway's own routes (/v1/webhook-endpoints, /v1/api-keys) given hostile input on the real database: NUL
bytes, a lone surrogate, JSON nested 10,000 deep, 10**30, ids that are not ids, another account's delivery. Each is
a 422 naming what is wrong or a 404, never a 5xx, and changes nothing."""
import json
from datetime import datetime, timezone

import pytest

from gateway.testing.scripted_upstreams import gateway

from .test_api_keys_api import UNLIMITED
from gateway.testing.webhook_targets import HOOK, fake_dns

ENDPOINTS = "/v1/webhook-endpoints"
DEEP = "[" * 10_000 + "]" * 10_000
HOSTILE_VALUES = {"nul": '"a\\u0000b"', "lone surrogate": '"\\ud800"', "deep": DEEP, "huge": str(10**30)}


@pytest.fixture
def api(infra, unique_suffix, mongo_client):
    client, auth, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:9", **UNLIMITED)
    container.webhook_resolver = fake_dns
    _, other_key = container.accounts.create_account("Other")
    endpoint = client.post(ENDPOINTS, json={"url": HOOK, "events": ["*"]}, headers=auth).get_json()
    key = client.post("/v1/api-keys", json={"name": "sync", "scopes": ["read"]}, headers=auth).get_json()
    yield client, auth, {"Authorization": f"Bearer {other_key.plaintext}"}, container, endpoint["id"], key["id"]
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def body_with(fields: dict, field: str, value_json: str) -> str:
    """`fields` as JSON with `field` set to the JSON text `value_json` (as a client could send it)."""
    return json.dumps({**fields, field: 0}).replace(f'"{field}": 0', f'"{field}": {value_json}')


WRITES = [
    ("post", ENDPOINTS, {"url": HOOK, "events": ["contact.created"]}, field)
    for field in ("url", "events", "description")
] + [
    ("patch", ENDPOINTS + "/{endpoint}", {}, field) for field in ("url", "events", "description", "enabled")
] + [
    ("post", "/v1/api-keys", {"name": "n", "scopes": ["read"]}, field) for field in ("name", "scopes", "expires_at")
] + [
    ("post", "/v1/api-keys/{key}/rotate", {}, "grace_period_seconds"),
]


@pytest.mark.parametrize("kind", HOSTILE_VALUES)
@pytest.mark.parametrize("method, path, fields, field", WRITES)
def test_a_hostile_value_in_any_field_is_a_422_and_changes_nothing(api, method, path, fields, field, kind):
    client, auth, _, _, endpoint_id, key_id = api
    before = (client.get(ENDPOINTS, headers=auth).get_json(), client.get("/v1/api-keys", headers=auth).get_json())
    response = getattr(client, method)(path.format(endpoint=endpoint_id, key=key_id),
                                       data=body_with(fields, field, HOSTILE_VALUES[kind]),
                                       content_type="application/json", headers=auth)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert (client.get(ENDPOINTS, headers=auth).get_json(), client.get("/v1/api-keys", headers=auth).get_json()) \
        == before


@pytest.mark.parametrize("bad_id", ["a%00b", "%ED%A0%80", "x" * 300, "..", "we_%2F.."])
def test_an_id_that_is_no_id_is_a_404_on_every_route(api, bad_id):
    client, auth, _, _, endpoint_id, _ = api
    for method, path in (("get", f"{ENDPOINTS}/{bad_id}"), ("patch", f"{ENDPOINTS}/{bad_id}"),
                         ("delete", f"{ENDPOINTS}/{bad_id}"), ("post", f"{ENDPOINTS}/{bad_id}/rotate-secret"),
                         ("get", f"{ENDPOINTS}/{bad_id}/deliveries"),
                         ("get", f"{ENDPOINTS}/{endpoint_id}/deliveries/{bad_id}"),
                         ("post", f"{ENDPOINTS}/{endpoint_id}/deliveries/{bad_id}/redeliver"),
                         ("get", f"/v1/api-keys/{bad_id}"), ("delete", f"/v1/api-keys/{bad_id}"),
                         ("post", f"/v1/api-keys/{bad_id}/rotate")):
        response = getattr(client, method)(path, json={"enabled": True} if method == "patch" else None, headers=auth)
        assert response.status_code in (404, 405), (method, path, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("query", ["limit=" + str(10**30), "limit=0", "limit=-1", "cursor=%00", "cursor=%ED%A0%80",
                                   "cursor=" + "x" * 5000, "limit=1e3"])
def test_a_hostile_page_query_is_a_422(api, query):
    client, auth, _, _, endpoint_id, _ = api
    response = client.get(f"{ENDPOINTS}/{endpoint_id}/deliveries?{query}", headers=auth)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]


def test_another_accounts_delivery_is_not_found_through_an_endpoint_of_ones_own(api):
    client, auth, other, container, endpoint_id, _ = api
    account_id = container.accounts.authenticate(auth["Authorization"].split(" ")[1]).account_id
    container.webhooks.deliveries.add(f"evt1:{endpoint_id}", account_id=account_id, endpoint_id=endpoint_id,
                                      event_id="evt1", event_type="contact.created", body="{}",
                                      now=datetime.now(timezone.utc))
    theirs = client.post(ENDPOINTS, json={"url": HOOK, "events": ["*"]}, headers=other).get_json()["id"]
    for method, path in (("get", f"{ENDPOINTS}/{theirs}/deliveries/evt1:{endpoint_id}"),
                         ("post", f"{ENDPOINTS}/{theirs}/deliveries/evt1:{endpoint_id}/redeliver"),
                         ("get", f"{ENDPOINTS}/{endpoint_id}/deliveries/evt1:{endpoint_id}"),
                         ("get", f"{ENDPOINTS}/{endpoint_id}/deliveries")):
        assert getattr(client, method)(path, headers=other).status_code == 404, (method, path)
    mine = client.get(f"{ENDPOINTS}/{endpoint_id}/deliveries/evt1:{endpoint_id}", headers=auth)
    assert mine.status_code == 200 and mine.get_json()["state"] == "pending"  # untouched


def test_a_body_that_is_not_an_object_or_not_json_is_a_4xx_problem(api):
    client, auth, _, _, endpoint_id, _ = api
    for data, content_type in (("[]", "application/json"), ("null", "application/json"), ("{", "application/json"),
                               (b"\xff\xfe", "application/json"), ("url=x", "application/x-www-form-urlencoded")):
        for method, path in (("post", ENDPOINTS), ("patch", f"{ENDPOINTS}/{endpoint_id}"), ("post", "/v1/api-keys")):
            response = getattr(client, method)(path, data=data, content_type=content_type, headers=auth)
            assert response.status_code in (415, 422), (method, path, data, response.get_data(as_text=True)[:300])
            assert response.mimetype == "application/problem+json"
