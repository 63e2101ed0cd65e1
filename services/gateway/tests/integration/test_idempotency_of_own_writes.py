"""`Idempotency-Key` on the gateway's own writes (/v1/webhook-endpoints, /v1/api-keys), on the real database: the
same records, fingerprints and replays as a proxied write, and no secret kept in the records."""
import re
import uuid

import pytest

from gateway.testing.scripted_upstreams import gateway
from gateway.testing.webhook_targets import HOOK, fake_dns

ENDPOINTS = "/v1/webhook-endpoints"
BODY = {"url": HOOK, "events": ["contact.created"]}


@pytest.fixture
def api(infra, unique_suffix, mongo_client):
    client, auth, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:9")
    container.webhook_resolver = fake_dns
    _, other_key = container.accounts.create_account("Other")
    yield client, auth, {"Authorization": f"Bearer {other_key.plaintext}"}, container
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def keyed(auth: dict, key: str | None = None) -> dict:
    return {**auth, "Idempotency-Key": key or f"k-{uuid.uuid4()}"}


def stored_records(container) -> str:
    return repr(list(container.db["idempotency_records"].find()))


def test_a_retried_endpoint_create_makes_one_endpoint_and_keeps_no_secret(api):
    client, auth, _, container = api
    headers = keyed(auth)
    first = client.post(ENDPOINTS, json=BODY, headers=headers)
    retry = client.post(ENDPOINTS, json=BODY, headers=headers)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    assert retry.status_code == 201, retry.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    replayed = retry.get_json()
    assert replayed["id"] == first.get_json()["id"] and "secret" not in replayed  # read back, the secret shown once
    assert [item["id"] for item in client.get(ENDPOINTS, headers=auth).get_json()["items"]] == [replayed["id"]]
    assert first.get_json()["secret"] not in stored_records(container)


def test_the_same_key_with_another_body_is_a_422_naming_the_header(api):
    client, auth, _, _ = api
    headers = keyed(auth)
    assert client.post(ENDPOINTS, json=BODY, headers=headers).status_code == 201
    other = client.post(ENDPOINTS, json={**BODY, "description": "another"}, headers=headers)
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert other.get_json()["type"] == "/problems/idempotency-key-reused"
    assert list(other.get_json()["errors"]) == ["Idempotency-Key"]
    assert len(client.get(ENDPOINTS, headers=headers).get_json()["items"]) == 1


def test_another_account_with_the_same_key_gets_its_own_endpoint(api):
    client, auth, other, _ = api
    key = f"shared-{uuid.uuid4()}"
    mine = client.post(ENDPOINTS, json=BODY, headers=keyed(auth, key))
    theirs = client.post(ENDPOINTS, json=BODY, headers=keyed(other, key))
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers and theirs.get_json()["id"] != mine.get_json()["id"]
    assert "secret" in theirs.get_json()


def test_a_refused_create_is_replayed_as_its_problem_without_its_detail(api):
    client, auth, _, _ = api
    headers, body = keyed(auth), {**BODY, "url": "http://10.0.0.8/hook"}
    first = client.post(ENDPOINTS, json=body, headers=headers)
    retry = client.post(ENDPOINTS, json=body, headers=headers)
    assert first.status_code == retry.status_code == 422
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json()["type"] == first.get_json()["type"] and "10.0.0.8" not in retry.get_data(as_text=True)


def test_a_retried_change_answers_the_endpoint_as_it_is_now(api):
    client, auth, _, _ = api
    endpoint_id = client.post(ENDPOINTS, json=BODY, headers=auth).get_json()["id"]
    headers = keyed(auth)
    first = client.patch(f"{ENDPOINTS}/{endpoint_id}", json={"description": "ERP"}, headers=headers)
    retry = client.patch(f"{ENDPOINTS}/{endpoint_id}", json={"description": "ERP"}, headers=headers)
    assert first.status_code == retry.status_code == 200, retry.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.get_json() == first.get_json()


def test_a_retried_delete_answers_204_again_not_404(api):
    client, auth, _, _ = api
    endpoint_id = client.post(ENDPOINTS, json=BODY, headers=auth).get_json()["id"]
    headers = keyed(auth)
    assert client.delete(f"{ENDPOINTS}/{endpoint_id}", headers=headers).status_code == 204
    retry = client.delete(f"{ENDPOINTS}/{endpoint_id}", headers=headers)
    assert retry.status_code == 204 and retry.headers["Idempotent-Replayed"] == "true"


def test_a_retried_secret_rotation_rotates_once_and_keeps_no_secret(api):
    client, auth, _, container = api
    endpoint_id = client.post(ENDPOINTS, json=BODY, headers=auth).get_json()["id"]
    headers, path = keyed(auth), f"{ENDPOINTS}/{endpoint_id}/rotate-secret"
    first = client.post(path, headers=headers)
    retry = client.post(path, headers=headers)
    assert first.status_code == 200
    assert retry.status_code == 409 and retry.get_json()["type"] == "/problems/idempotent-response-not-kept"
    assert first.get_json()["secret"] not in stored_records(container)


def test_a_retried_api_key_create_makes_one_key_and_keeps_no_secret(api):
    client, auth, _, container = api
    headers, body = keyed(auth), {"name": "sync", "scopes": ["read"]}
    before = len(client.get("/v1/api-keys", headers=auth).get_json()["items"])
    first = client.post("/v1/api-keys", json=body, headers=headers)
    retry = client.post("/v1/api-keys", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201, retry.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.headers["Location"] == first.headers["Location"]
    assert "secret" not in retry.get_json() and retry.get_json()["id"] == first.get_json()["id"]
    assert len(client.get("/v1/api-keys", headers=auth).get_json()["items"]) == before + 1
    assert first.get_json()["secret"] not in stored_records(container)


def test_a_retried_api_key_rotation_is_not_run_twice(api):
    client, auth, _, _ = api
    key_id = client.post("/v1/api-keys", json={"name": "sync", "scopes": ["read"]}, headers=auth).get_json()["id"]
    headers = keyed(auth)
    assert client.post(f"/v1/api-keys/{key_id}/rotate", headers=headers).status_code == 200
    retry = client.post(f"/v1/api-keys/{key_id}/rotate", headers=headers)
    assert retry.status_code == 409 and retry.get_json()["type"] == "/problems/idempotent-response-not-kept"


def test_a_malformed_key_is_a_422_naming_the_header_and_changes_nothing(api):
    client, auth, _, _ = api
    refused = client.post(ENDPOINTS, json=BODY, headers=keyed(auth, "k" * 256))
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["Idempotency-Key"]
    assert client.get(ENDPOINTS, headers=auth).get_json()["items"] == []


def test_a_refused_scope_claims_no_key(api):
    client, auth, _, container = api
    account_id = container.accounts.authenticate(auth["Authorization"].split(" ")[1]).account_id
    reader = {"Authorization": f"Bearer {container.accounts.issue_key(account_id, ('read',)).plaintext}"}
    assert client.post(ENDPOINTS, json=BODY, headers=keyed(reader, "same")).status_code == 403
    assert client.post(ENDPOINTS, json=BODY, headers=keyed(auth, "same")).status_code == 201


def test_a_keyed_write_and_its_replay_are_each_counted_once_against_the_rate_limits(api):
    client, auth, _, _ = api
    headers = keyed(auth)
    remaining = [client.post(ENDPOINTS, json=BODY, headers=headers).headers["RateLimit"] for _ in range(3)]
    left = [int(re.search(r'"key";r=(\d+)', header).group(1)) for header in remaining]
    assert left[0] - left[1] == left[1] - left[2] == 1, remaining
