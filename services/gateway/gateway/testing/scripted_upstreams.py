"""Scripted HTTP upstreams in threads of their own, and a gateway test client in front of them on the real
MongoDB server (integration tests)."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from crm_platform import registry

from gateway import config
from gateway.entrypoints.api import create_app


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


class BurstServer(ThreadingHTTPServer):
    # The 360 read connects to every section's service at once (9 here): with socketserver's backlog of 5, a
    # connection the accepting thread was too slow for was dropped and retried a second later by the kernel, and
    # the section timed out (test_the_sections_are_read_in_parallel failed 5 runs of its file in 29 on an idle
    # machine, and in two CI runs; none in 12 with this backlog).
    request_queue_size = 128


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]):
    """An HTTP server on a free port in a thread of its own; yields its base URL."""
    server = BurstServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@contextmanager
def scripted_gateway(infra, unique_suffix, mongo_client, script, **settings):
    """A gateway test client and its Authorization header, in front of `script` (a scripted_contact.Script)
    serving every service, for the time of the `with`."""
    with serving(script.handler()) as url:
        test_client, auth, _ = gateway(infra, unique_suffix, mongo_client, url, **settings)
        yield test_client, auth


def gateway(infra, unique_suffix, mongo_client, contacts_url, timeout_s=10.0, max_request_bytes=16 * 2**20,
            **more_settings):
    """A test client of a gateway in front of `contacts_url`, its account's Authorization header and its container.
    `more_settings` are further variables (RATE_LIMIT_KEY_PER_MINUTE=5...)."""
    app = gateway_app(infra, unique_suffix, contacts_url, timeout_s, max_request_bytes, **more_settings)
    container = app.extensions["container"]
    container.ensure_indexes()
    account_id, key = container.accounts.create_account("Test")
    return app.test_client(), {"Authorization": f"Bearer {key.plaintext}"}, container


def gateway_app(infra, unique_suffix, contacts_url, timeout_s=10.0, max_request_bytes=16 * 2**20, **more_settings):
    """The gateway's app on the test's database (`test_<suffix>_gateway`), every service at `contacts_url`."""
    settings = config.load({
        "MONGO_URI": infra.mongo_uri, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "KAFKA_TOPIC_NAMESPACE": "", "KAFKA_TOPIC_PARTITIONS": 1, "INTERNAL_TOKEN": "t" * 32,
        "LOG_LEVEL": "WARNING", "GATEWAY_DB": f"test_{unique_suffix}_gateway",
        # every service behind the gateway at the one test upstream (the registry names them)
        **{service.url_variable: contacts_url for service in registry.load().upstreams},
        "UPSTREAM_TIMEOUT_S": timeout_s, "WORKER_HEARTBEAT_FILE": "/tmp/unused", "MAX_REQUEST_BYTES": max_request_bytes,
        **more_settings,
    })
    return create_app(settings)
