import base64
import os

import pytest

from contacts.bootstrap import Container
from contacts.entrypoints.api import create_app

INTERNAL_TOKEN = "integration-test-internal-token"


@pytest.fixture
def settings(infra, unique_suffix, topic_namespace):
    return {
        "MONGO_URI": infra.mongo_uri,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "KAFKA_TOPIC_NAMESPACE": topic_namespace,
        "KAFKA_TOPIC_PARTITIONS": 3,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "MASTER_KEY": os.urandom(32),
        "KEYVAULT_DB": f"test_{unique_suffix}_keys",
        "CONTACTS_DB": f"test_{unique_suffix}_contacts",
        "LOG_LEVEL": "WARNING",
        "WORKER_HEARTBEAT_FILE": "/tmp/unused",
    }


@pytest.fixture
def container(settings, mongo_client):
    container = Container(settings)
    container.ensure_indexes()
    yield container
    mongo_client.drop_database(settings["CONTACTS_DB"])
    mongo_client.drop_database(settings["KEYVAULT_DB"])


@pytest.fixture
def client(container):
    app = create_app(container.settings)
    app.extensions["container"] = container
    return app.test_client()


def headers(account="acct-1"):
    return {"X-Internal-Token": INTERNAL_TOKEN, "X-Account-Id": account}


def master_key_b64(settings):
    return base64.b64encode(settings["MASTER_KEY"]).decode()
