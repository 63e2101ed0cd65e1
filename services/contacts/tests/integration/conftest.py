import base64
import os
import signal
import subprocess
import sys

import pytest

from crm_platform.testing.service_fixtures import INTERNAL_TOKEN, internal_headers, service_container, service_settings

from contacts import config
from contacts.bootstrap import Container
from contacts.entrypoints.api import create_app


@pytest.fixture
def settings(infra, unique_suffix, topic_namespace):
    return service_settings(config, "CONTACTS_DB", infra, unique_suffix, topic_namespace)


@pytest.fixture
def container(settings, mongo_client):
    yield from service_container(Container, settings, mongo_client, "CONTACTS_DB")


@pytest.fixture
def client(container):
    app = create_app(container.settings)
    app.extensions["container"] = container
    return app.test_client()


def headers(account="acct-1"):
    return internal_headers(account)


def every_page(contacts, query, limit: int, **lists) -> list[str]:
    """The ids of acct-1's contacts `query` finds, page after page of `limit` following the cursors; `lists` are
    find_page's numbers or initials."""
    from contacts.contact_query import find_page

    seen, cursor = [], None
    while True:
        page, cursor = find_page(contacts, "acct-1", query, limit, cursor, **lists)
        assert len(page) <= limit
        seen += [doc["_id"] for doc in page]
        if cursor is None:
            return seen


@pytest.fixture
def worker(settings, tmp_path):
    """The real contacts worker on this test's databases and topics (its log in tmp_path/worker.log)."""
    env = {**os.environ, "MONGO_URI": settings["MONGO_URI"], "KAFKA_BOOTSTRAP_SERVERS": settings["KAFKA_BOOTSTRAP_SERVERS"],
           "KAFKA_TOPIC_NAMESPACE": settings["KAFKA_TOPIC_NAMESPACE"], "INTERNAL_TOKEN": INTERNAL_TOKEN,
           "MASTER_KEY": _b64(settings["MASTER_KEY"]), "KEYVAULT_DB": settings["KEYVAULT_DB"],
           "CONTACTS_DB": settings["CONTACTS_DB"], "PRIVACY_EXCHANGE_DB": settings["PRIVACY_EXCHANGE_DB"],
           "LOG_LEVEL": "INFO",  # logs are scanned too
           "WORKER_HEARTBEAT_FILE": str(tmp_path / "heartbeat")}
    log = open(tmp_path / "worker.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "contacts.entrypoints.worker"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log.close()


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()
