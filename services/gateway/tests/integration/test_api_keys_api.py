"""/v1/api-keys through the gateway on the real MongoDB server (a scripted upstream answers proxied requests)."""
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from gateway.adapters.accounts import FIRST_KEYS_GET_ADMIN
from gateway.testing.scripted_upstreams import QuietHandler, gateway, serving

UNLIMITED = {"RATE_LIMIT_KEY_PER_SECOND": 1000, "RATE_LIMIT_KEY_PER_MINUTE": 10_000,
             "RATE_LIMIT_ACCOUNT_PER_MINUTE": 10_000}
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


class Echo(QuietHandler):
    """Answers any request with 200 and the path it reached the service with."""

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer


class Clock:
    """The gateway's clock of API keys, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def api(infra, unique_suffix, mongo_client):
    """(client, the account owner's Authorization header, container with a test clock)."""
    with serving(Echo) as url:
        client, owner, container = gateway(infra, unique_suffix, mongo_client, url, **UNLIMITED)
        container.clock = Clock()
        yield client, owner, container
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def owner_key_id(auth: dict) -> str:
    return auth["Authorization"].removeprefix("Bearer crm_")[:12]


def created(client, auth, **body) -> dict:
    response = client.post("/v1/api-keys", headers=auth, json={"name": "sync", "scopes": ["read"], **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_key_without_admin_cannot_manage_keys(api):
    client, owner, _ = api
    reader = created(client, owner, scopes=["read", "write", "privacy"])
    for method, path in (("get", "/v1/api-keys"), ("post", "/v1/api-keys"), ("get", f"/v1/api-keys/{reader['id']}"),
                         ("delete", f"/v1/api-keys/{reader['id']}")):
        refused = getattr(client, method)(path, headers=bearer(reader["secret"]), json={"name": "x", "scopes": ["read"]})
        assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
        assert refused.get_json()["required_scope"] == "admin"


def test_a_created_key_has_exactly_its_scopes_and_its_secret_is_shown_once(api):
    client, owner, _ = api
    key = created(client, owner, name="nightly sync", scopes=["read"])
    assert key["secret"].startswith(f"crm_{key['id']}_") and key["prefix"] == f"crm_{key['id']}"
    assert key["scopes"] == ["read"] and key["name"] == "nightly sync" and key["created_at"] == T0.isoformat()
    assert client.get("/v1/contacts", headers=bearer(key["secret"])).status_code == 200
    assert client.post("/v1/contacts", headers=bearer(key["secret"]), json={}).get_json()["required_scope"] == "write"
    assert client.get("/v1/privacy/requests", headers=bearer(key["secret"])).status_code == 403
    read = client.get(f"/v1/api-keys/{key['id']}", headers=owner)
    assert read.status_code == 200 and "secret" not in read.get_json()
    assert {k: v for k, v in key.items() if k != "secret"} == {**read.get_json(), "last_used_at": None}
    listed = {k["id"]: k for k in client.get("/v1/api-keys", headers=owner).get_json()["items"]}
    assert set(listed) == {key["id"], owner_key_id(owner)} and key["secret"][17:] not in json.dumps(listed)
    assert sorted(listed[owner_key_id(owner)]["scopes"]) == ["admin", "privacy", "read", "write"]


def test_a_key_cannot_give_a_scope_it_lacks(api):
    client, owner, _ = api
    helper = created(client, owner, scopes=["read", "admin"])
    refused = client.post("/v1/api-keys", headers=bearer(helper["secret"]), json={"name": "x", "scopes": ["write"]})
    assert refused.status_code == 403 and refused.get_json()["missing_scopes"] == ["write"]
    assert refused.get_json()["type"].endswith("/scopes-not-held")
    assert created(client, bearer(helper["secret"]), scopes=["read"])["scopes"] == ["read"]


def test_a_revoked_key_is_refused_at_once(api):
    client, owner, container = api
    key = created(client, owner)
    assert client.get("/v1/contacts", headers=bearer(key["secret"])).status_code == 200
    assert client.delete(f"/v1/api-keys/{key['id']}", headers=owner).status_code == 204
    assert client.get("/v1/contacts", headers=bearer(key["secret"])).status_code == 401
    assert client.get(f"/v1/api-keys/{key['id']}", headers=owner).get_json()["revoked_at"] == T0.isoformat()
    assert client.delete(f"/v1/api-keys/{key['id']}", headers=owner).status_code == 204  # already: no change


def test_a_rotated_keys_old_secret_works_during_the_grace_period_and_not_after(api):
    client, owner, container = api
    key = created(client, owner)
    rotated = client.post(f"/v1/api-keys/{key['id']}/rotate", headers=owner, json={"grace_period_seconds": 3600})
    assert rotated.status_code == 200
    new = rotated.get_json()
    assert new["id"] == key["id"] and new["secret"] != key["secret"]
    assert new["previous_secret_expires_at"] == (T0 + timedelta(hours=1)).isoformat()
    container.clock.now = T0 + timedelta(minutes=59)
    assert client.get("/v1/contacts", headers=bearer(key["secret"])).status_code == 200
    assert client.get("/v1/contacts", headers=bearer(new["secret"])).status_code == 200
    container.clock.now = T0 + timedelta(hours=1)
    assert client.get("/v1/contacts", headers=bearer(key["secret"])).status_code == 401
    assert client.get("/v1/contacts", headers=bearer(new["secret"])).status_code == 200


def test_a_rotation_without_a_body_keeps_the_old_secret_for_24_hours(api):
    client, owner, container = api
    key = created(client, owner)
    rotated = client.post(f"/v1/api-keys/{key['id']}/rotate", headers=owner)
    assert rotated.status_code == 200
    assert rotated.get_json()["previous_secret_expires_at"] == (T0 + timedelta(hours=24)).isoformat()
    container.clock.now = T0 + timedelta(hours=24)
    assert client.get("/v1/contacts", headers=bearer(key["secret"])).status_code == 401


def test_the_last_admin_key_cannot_be_revoked(api):
    client, owner, _ = api
    [first] = client.get("/v1/api-keys", headers=owner).get_json()["items"]
    refused = client.delete(f"/v1/api-keys/{first['id']}", headers=owner)
    assert refused.status_code == 409 and refused.get_json()["type"].endswith("/last-admin-key")
    assert client.get("/v1/contacts", headers=owner).status_code == 200
    second = created(client, owner, scopes=["admin"])
    assert client.delete(f"/v1/api-keys/{first['id']}", headers=bearer(second["secret"])).status_code == 204
    assert client.delete(f"/v1/api-keys/{second['id']}", headers=bearer(second["secret"])).status_code == 409


def test_an_expired_key_is_refused_like_an_unknown_one(api):
    client, owner, container = api
    key = created(client, owner, expires_at="2026-12-01T11:00:00+01:00")  # 10:00 UTC
    assert key["expires_at"] == (T0 + timedelta(hours=1)).isoformat()
    container.clock.now = T0 + timedelta(hours=1)
    expired = client.get("/v1/contacts", headers=bearer(key["secret"]))
    unknown = client.get("/v1/contacts", headers=bearer(f"crm_{'0' * 12}_{'A' * 43}"))
    assert expired.status_code == unknown.status_code == 401
    assert expired.get_json()["detail"] == unknown.get_json()["detail"]


def test_another_accounts_key_is_not_found(api):
    client, owner, container = api
    _, other = container.accounts.create_account("Other")
    for method, path in (("get", f"/v1/api-keys/{other.key_id}"), ("delete", f"/v1/api-keys/{other.key_id}"),
                         ("post", f"/v1/api-keys/{other.key_id}/rotate"), ("get", "/v1/api-keys/no-such-key")):
        assert getattr(client, method)(path, headers=owner).status_code == 404, path
    assert client.get("/v1/contacts", headers=bearer(other.plaintext)).status_code == 200  # untouched


def test_last_use_is_written_at_most_once_a_minute(api):
    client, owner, container = api
    key = created(client, owner)
    assert client.get(f"/v1/api-keys/{key['id']}", headers=owner).get_json()["last_used_at"] is None
    client.get("/v1/contacts", headers=bearer(key["secret"]))
    container.clock.now = T0 + timedelta(seconds=59)
    client.get("/v1/contacts", headers=bearer(key["secret"]))
    assert client.get(f"/v1/api-keys/{key['id']}", headers=owner).get_json()["last_used_at"] == T0.isoformat()
    container.clock.now = T0 + timedelta(seconds=61)
    client.get("/v1/contacts", headers=bearer(key["secret"]))
    assert client.get(f"/v1/api-keys/{key['id']}", headers=owner).get_json()["last_used_at"] == \
        container.clock.now.isoformat()


@pytest.mark.parametrize("body, field", [
    ({"scopes": ["read"]}, "name"),
    ({"name": "", "scopes": ["read"]}, "name"),
    ({"name": "a\nb", "scopes": ["read"]}, "name"),
    ({"name": "x" * 101, "scopes": ["read"]}, "name"),
    ({"name": "x"}, "scopes"),
    ({"name": "x", "scopes": []}, "scopes"),
    ({"name": "x", "scopes": ["owner"]}, "scopes"),
    ({"name": "x", "scopes": "read"}, "scopes"),
    ({"name": "x", "scopes": ["read"], "expires_at": "2026-11-30T09:00:00+00:00"}, "expires_at"),
    ({"name": "x", "scopes": ["read"], "expires_at": "2027-01-01T09:00:00"}, "expires_at"),
    ({"name": "x", "scopes": ["read"], "expires_at": "tomorrow"}, "expires_at"),
    ({"name": "x", "scopes": ["read"], "expires_at": "9999-12-31T23:00:00-02:00"}, "expires_at"),
    ({"name": "x", "scopes": ["read"], "secret": "mine"}, "secret"),
])
def test_an_invalid_key_is_a_422_naming_the_field(api, body, field):
    client, owner, _ = api
    refused = client.post("/v1/api-keys", headers=owner, json=body)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert list(refused.get_json()["errors"]) == [field]


@pytest.mark.parametrize("body", [{"grace_period_seconds": 7 * 86400 + 1}, {"grace_period_seconds": -1},
                                  {"grace_period_seconds": "3600"}, {"grace": 1}])
def test_an_invalid_grace_period_is_a_422_naming_the_field(api, body):
    client, owner, _ = api
    key = created(client, owner)
    refused = client.post(f"/v1/api-keys/{key['id']}/rotate", headers=owner, json=body)
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == list(body)


def test_other_methods_are_405_with_allow(api):
    client, owner, _ = api
    answer = client.put("/v1/api-keys", headers=owner, json={})
    assert answer.status_code == 405 and set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert client.patch(f"/v1/api-keys/{'a' * 12}", headers=owner).status_code == 405


def test_the_routes_are_in_the_merged_openapi_document(api):
    client, _, _ = api
    spec = client.get("/openapi.json").get_json()
    assert set(spec["paths"]["/v1/api-keys"]) == {"get", "post"}
    assert set(spec["paths"]["/v1/api-keys/{key_id}"]) == {"get", "delete"}
    assert "post" in spec["paths"]["/v1/api-keys/{key_id}/rotate"]
    assert "429" in spec["paths"]["/v1/api-keys"]["get"]["responses"]
    rotate = spec["paths"]["/v1/api-keys/{key_id}/rotate"]["post"]
    assert rotate["requestBody"]["required"] is False  # a rotation without a body takes the default grace
    assert spec["paths"]["/v1/api-keys"]["post"]["requestBody"]["required"] is True
    assert "IssuedKey" in spec["components"]["schemas"]


def test_no_secret_reaches_the_logs(api, caplog):
    client, owner, _ = api
    with caplog.at_level(logging.DEBUG):
        key = created(client, owner, scopes=["read", "write"])
        rotated = client.post(f"/v1/api-keys/{key['id']}/rotate", headers=owner).get_json()
        client.get("/v1/contacts", headers=bearer(rotated["secret"]))
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert key["id"] in logged  # the key is named by its id
    for secret in (key["secret"], rotated["secret"], owner["Authorization"]):
        assert secret[17:] not in logged


def test_accounts_first_keys_made_before_the_admin_scope_get_it_once(api, mongo_client):
    client, owner, container = api
    keys, migrations = container.db["api_keys"], container.db["migrations"]
    [first] = keys.find()
    container.clock.now = datetime.now(timezone.utc) + timedelta(hours=1)  # after the first key's creation
    later = container.accounts.issue_key(first["account_id"], ("read",))
    keys.update_one({"_id": first["_id"]}, {"$set": {"scopes": ["read", "write", "privacy"]}})  # as stored before
    migrations.delete_many({"_id": FIRST_KEYS_GET_ADMIN})
    container.ensure_indexes()
    assert keys.find_one({"_id": first["_id"]})["scopes"] == ["read", "write", "privacy", "admin"]
    assert keys.find_one({"_id": later.key_id})["scopes"] == ["read"]
    assert client.get("/v1/api-keys", headers=owner).status_code == 200
    keys.update_one({"_id": first["_id"]}, {"$set": {"scopes": ["read"]}})  # an operator's later choice stays
    container.ensure_indexes()
    assert keys.find_one({"_id": first["_id"]})["scopes"] == ["read"]
