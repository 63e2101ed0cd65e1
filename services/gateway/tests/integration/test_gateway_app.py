"""The gateway against the real MongoDB server, with upstreams that are down, slow, or serve files."""
import hashlib
import io
import json
import os
import time

import pytest

from crm_platform.errors import NotFound

from devinfra.ports import free_port  # a free port is one where nothing answers

from gateway.entrypoints.key_representation import key_view
from gateway.testing.scripted_upstreams import QuietHandler, gateway, serving


@pytest.fixture
def slow_upstream():
    class Slow(QuietHandler):
        def do_GET(self):
            time.sleep(3)
            self.send_response(200)
            self.end_headers()

    with serving(Slow) as url:
        yield url


FILE = os.urandom(300_000)


@pytest.fixture
def file_upstream():
    """Answers a POST with what it received, a GET with a file (as the contacts service sends one)."""
    class Files(QuietHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            echo = json.dumps({"sha256": hashlib.sha256(body).hexdigest(), "content_type": self.headers["Content-Type"]})
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(echo)))
            self.end_headers()
            self.wfile.write(echo.encode())

        def do_GET(self):
            self.send_response(200)
            for name, value in (("Content-Type", "application/pdf"), ("Content-Length", str(len(FILE))),
                                ("Content-Disposition", "attachment; filename=\"Devis ete.pdf\"; "
                                                        "filename*=UTF-8''Devis%20%C3%A9t%C3%A9.pdf"),
                                ("ETag", '"abc"'), ("X-Content-Type-Options", "nosniff"), ("X-Internal", "secret")):
                self.send_header(name, value)
            self.end_headers()
            for start in range(0, len(FILE), 50_000):
                self.wfile.write(FILE[start:start + 50_000])

    with serving(Files) as url:
        yield url


@pytest.fixture
def cleanup(mongo_client, unique_suffix):
    """Drops the gateway database the test made with `gateway(...)`."""
    yield
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def test_an_unreachable_upstream_gives_503_with_a_retry_hint(infra, unique_suffix, mongo_client, cleanup):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, f"http://127.0.0.1:{free_port()}")
    response = client.get("/v1/contacts", headers=auth)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert "contacts" in response.get_json()["detail"]


def test_a_slow_upstream_gives_504_with_a_retry_hint(infra, unique_suffix, mongo_client, cleanup, slow_upstream):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, slow_upstream, timeout_s=0.5)
    response = client.get("/v1/contacts", headers=auth)
    assert response.status_code == 504
    assert response.mimetype == "application/problem+json"
    assert "Retry-After" in response.headers


def test_unknown_resources_and_path_tricks_are_404(infra, unique_suffix, mongo_client, cleanup):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, f"http://127.0.0.1:{free_port()}")
    assert client.get("/v1/workflows", headers=auth).status_code == 404
    assert client.get("/v1/contacts/x/%2e%2e/%2e%2e/readyz", headers=auth).status_code == 404


def test_account_creation_records_an_account_created_event(infra, unique_suffix, mongo_client, cleanup):
    _, _, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:1")
    [commit] = list(container.event_store.commits.find())
    assert commit["events"][0]["event_type"] == "AccountCreated"
    assert commit["published"] is False
    stored = container.db["api_keys"].find_one()
    assert set(stored) >= {"secret_hash", "account_id"} and "plaintext" not in stored


def test_multipart_uploads_and_file_downloads_pass_through_unchanged(infra, unique_suffix, mongo_client, cleanup,
                                                                      file_upstream):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, file_upstream)
    body = (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="devis.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n" + FILE + b"\r\n--b0undary--\r\n")
    uploaded = client.post("/v1/contacts/c1/attachments", headers=auth, data=body,
                           content_type="multipart/form-data; boundary=b0undary")
    assert uploaded.status_code == 201
    assert uploaded.get_json() == {"sha256": hashlib.sha256(body).hexdigest(),
                                   "content_type": "multipart/form-data; boundary=b0undary"}

    download = client.get("/v1/contacts/c1/attachments/a1/content", headers=auth)
    assert download.status_code == 200 and download.data == FILE
    for name in ("Content-Type", "Content-Disposition", "ETag", "X-Content-Type-Options"):
        assert download.headers[name]
    assert download.headers["Content-Length"] == str(len(FILE))
    assert "filename*=UTF-8''Devis%20%C3%A9t%C3%A9.pdf" in download.headers["Content-Disposition"]
    assert "X-Internal" not in download.headers


def test_a_body_over_the_gateway_limit_is_413_with_the_limit(infra, unique_suffix, mongo_client, cleanup, file_upstream):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, file_upstream, max_request_bytes=2**20)
    response = client.post("/v1/contacts/c1/attachments", headers=auth, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(os.urandom(2**20)), "big.pdf", "application/pdf")})
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.get_json()["max_bytes"] == 2**20 and str(2**20) in response.get_json()["detail"]


def test_jobs_are_routed_to_the_services_that_serve_jobs(infra, unique_suffix, mongo_client, cleanup, file_upstream):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, file_upstream)
    response = client.get("/v1/jobs/job:1", headers=auth)
    assert response.status_code == 200 and response.data == FILE  # what the contacts upstream serves
    down, auth, _ = gateway(infra, f"{unique_suffix}b", mongo_client, f"http://127.0.0.1:{free_port()}")
    assert "contacts" in down.post("/v1/jobs/job:1/cancel", headers=auth).get_json()["detail"]
    mongo_client.drop_database(f"test_{unique_suffix}b_gateway")


class PathEcho(QuietHandler):
    """Answers a GET with the path (and query) exactly as it reached the service."""

    def do_GET(self):
        echo = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(echo)))
        self.end_headers()
        self.wfile.write(echo)


def test_repeated_query_parameters_reach_the_service_all_of_them(infra, unique_suffix, mongo_client, cleanup):
    with serving(PathEcho) as url:
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        answer = client.get("/v1/contacts?labels_any=vip&labels_any=client&q=%C3%A9t%C3%A9", headers=auth)
    assert answer.get_json()["path"] == "/v1/contacts?labels_any=vip&labels_any=client&q=%C3%A9t%C3%A9"


def test_a_path_segment_reaches_the_service_as_one_segment_whatever_it_holds(infra, unique_suffix, mongo_client,
                                                                             cleanup):
    with serving(PathEcho) as url:
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        # "?" and "#" sent encoded are part of the id: decoded and forwarded raw, they cut the path short
        answer = client.get("/v1/contacts/a%3Fb%23c%20d%C3%A9/notes?limit=2", headers=auth)
    assert answer.get_json()["path"] == "/v1/contacts/a%3Fb%23c%20d%C3%A9/notes?limit=2"


def test_operators_list_and_revoke_keys_and_cannot_issue_one_to_a_missing_account(infra, unique_suffix, mongo_client,
                                                                                  cleanup, file_upstream):
    client, auth, container = gateway(infra, unique_suffix, mongo_client, file_upstream)
    accounts = container.accounts
    [first] = container.db["accounts"].find()
    second = accounts.issue_key(first["_id"])
    listed = [key_view(record) for record in accounts.list_keys(first["_id"])]
    assert [k["revoked_at"] for k in listed] == [None, None] and second.key_id in {k["id"] for k in listed}
    shown = json.dumps(listed)
    assert '"secret"' not in shown and second.plaintext[17:] not in shown and second.secret_hash not in shown
    revoked_at = accounts.revoke_key(second.key_id).revoked_at
    assert revoked_at is not None and accounts.revoke_key(second.key_id).revoked_at == revoked_at  # once
    assert client.get("/v1/contacts/c1/attachments/a1/content",
                      headers={"Authorization": f"Bearer {second.plaintext}"}).status_code == 401
    assert client.get("/v1/contacts/c1/attachments/a1/content", headers=auth).status_code == 200  # the other key
    with pytest.raises(NotFound):
        accounts.issue_key("no-such-account")


def test_a_405_of_a_service_keeps_its_allow_header_through_the_gateway(infra, unique_suffix, mongo_client, cleanup):
    class OnlyGet(QuietHandler):
        def do_POST(self):
            self.send_response(405)
            self.send_header("Allow", "GET, HEAD, OPTIONS")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_OPTIONS(self):
            self.send_response(200)
            self.send_header("Allow", "GET, HEAD, OPTIONS")
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(OnlyGet) as url:
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        answer = client.post("/v1/contact-settings", headers=auth, json={})
        options = client.options("/v1/contact-settings", headers=auth)  # the service's answer, not the gateway's
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert options.status_code == 200 and options.headers["Allow"] == "GET, HEAD, OPTIONS"


class PathEchoOfAnyMethod(PathEcho):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()


def test_a_key_does_only_what_its_scopes_allow_and_a_key_stored_before_scopes_reads_and_writes(
        infra, unique_suffix, mongo_client, cleanup):
    with serving(PathEchoOfAnyMethod) as url:
        client, _, container = gateway(infra, unique_suffix, mongo_client, url)
        [account] = container.db["accounts"].find()
        reader = container.accounts.issue_key(account["_id"], ("read",))
        headers = {"Authorization": f"Bearer {reader.plaintext}"}
        assert client.get("/v1/contacts", headers=headers).status_code == 200
        refused = client.post("/v1/contacts", headers=headers, json={"first_name": "Louise"})
        assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
        assert refused.get_json()["required_scope"] == "write"
        older = container.accounts.issue_key(account["_id"])
        container.db["api_keys"].update_one({"_id": older.key_id}, {"$unset": {"scopes": ""}})
        headers = {"Authorization": f"Bearer {older.plaintext}"}
        assert client.post("/v1/contacts", headers=headers, json={}).status_code == 200
        listed = {k.key_id: list(k.scopes) for k in container.accounts.list_keys(account["_id"])}
        assert listed[reader.key_id] == ["read"] and listed[older.key_id] == ["read", "write"]
        assert sorted(next(iter(v for k, v in listed.items() if k not in (reader.key_id, older.key_id)))) == \
            ["admin", "privacy", "read", "write"]  # the account's first key: its owner's
