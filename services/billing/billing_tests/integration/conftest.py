import base64
import os

import pytest

from billing import config
from billing.bootstrap import Container
from billing.entrypoints.api import create_app

INTERNAL_TOKEN = "integration-test-internal-token"


@pytest.fixture
def settings(infra, unique_suffix, topic_namespace):
    # Through the real settings loader, so defaults and validation are the ones the service gets.
    return config.load({
        "MONGO_URI": infra.mongo_uri,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "KAFKA_TOPIC_NAMESPACE": topic_namespace,
        "KAFKA_TOPIC_PARTITIONS": "1",
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "KEYVAULT_DB": f"test_{unique_suffix}_keys",
        "BILLING_DB": f"test_{unique_suffix}_billing",
        "LOG_LEVEL": "WARNING",
    })


@pytest.fixture
def container(settings, mongo_client):
    container = Container(settings)
    container.ensure_indexes()
    yield container
    mongo_client.drop_database(settings["BILLING_DB"])
    mongo_client.drop_database(settings["KEYVAULT_DB"])


@pytest.fixture
def client(container):
    app = create_app(container.settings)
    app.extensions["container"] = container  # the test's container, whose databases it drops
    return app.test_client()


def headers(account="acct-1", **extra):
    return {"X-Internal-Token": INTERNAL_TOKEN, "X-Account-Id": account, **extra}
