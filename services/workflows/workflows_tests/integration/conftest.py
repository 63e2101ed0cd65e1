import base64
import os

import pytest

from workflows import config
from workflows.bootstrap import Container
from workflows.entrypoints.api import create_app

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
        "WORKFLOWS_DB": f"test_{unique_suffix}_workflows",
        "LOG_LEVEL": "WARNING",
    })


@pytest.fixture
def container(settings, mongo_client):
    container = Container(settings)
    container.ensure_indexes()
    yield container
    mongo_client.drop_database(settings["WORKFLOWS_DB"])
    mongo_client.drop_database(settings["KEYVAULT_DB"])


@pytest.fixture
def client(container):
    app = create_app(container.settings)
    app.extensions["container"] = container  # the test's container, whose databases it drops
    return app.test_client()


def headers(account="acct-1"):
    return {"X-Internal-Token": INTERNAL_TOKEN, "X-Account-Id": account}


def project_all(container) -> int:
    """Every stored event into the read models, as the worker's projection consumer would (idempotent)."""
    applied = 0
    for envelope in container.event_store.read_all():
        container.read_models.apply(envelope)
        applied += 1
    return applied
