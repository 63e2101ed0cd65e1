"""The gateway against the real MongoDB server, with upstreams that are down or slow."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from devinfra.ports import free_port  # a free port is one where nothing answers

from gateway.bootstrap import Container
from gateway.entrypoints.api import create_app


@pytest.fixture
def slow_upstream():
    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(3)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def gateway(infra, unique_suffix, mongo_client, contacts_url, timeout_s=10.0):
    settings = {
        "MONGO_URI": infra.mongo_uri, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "KAFKA_TOPIC_NAMESPACE": "", "KAFKA_TOPIC_PARTITIONS": 1, "INTERNAL_TOKEN": "t" * 32,
        "LOG_LEVEL": "WARNING", "GATEWAY_DB": f"test_{unique_suffix}_gateway", "CONTACTS_URL": contacts_url,
        "UPSTREAM_TIMEOUT_S": timeout_s, "WORKER_HEARTBEAT_FILE": "/tmp/unused",
    }
    container = Container(settings)
    container.ensure_indexes()
    account_id, key = container.accounts.create_account("Test")
    return create_app(settings).test_client(), {"Authorization": f"Bearer {key.plaintext}"}, container


@pytest.fixture
def cleanup(mongo_client, unique_suffix):
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
    assert client.get("/v1/invoices", headers=auth).status_code == 404
    assert client.get("/v1/contacts/x/%2e%2e/%2e%2e/readyz", headers=auth).status_code == 404


def test_account_creation_records_an_account_created_event(infra, unique_suffix, mongo_client, cleanup):
    _, _, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:1")
    [commit] = list(container.event_store.commits.find())
    assert commit["events"][0]["event_type"] == "AccountCreated"
    assert commit["published"] is False
    stored = container.db["api_keys"].find_one()
    assert set(stored) >= {"secret_hash", "account_id"} and "plaintext" not in stored
