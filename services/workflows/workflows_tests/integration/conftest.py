import pytest

from crm_platform.testing.service_fixtures import internal_headers, service_container, service_settings

from workflows import config
from workflows.bootstrap import Container
from workflows.entrypoints.api import create_app


@pytest.fixture
def settings(infra, unique_suffix, topic_namespace):
    return service_settings(config, "WORKFLOWS_DB", infra, unique_suffix, topic_namespace, KAFKA_TOPIC_PARTITIONS="1")


@pytest.fixture
def container(settings, mongo_client):
    yield from service_container(Container, settings, mongo_client, "WORKFLOWS_DB")


@pytest.fixture
def client(container):
    app = create_app(container.settings)
    app.extensions["container"] = container  # the test's container, whose databases it drops
    return app.test_client()


def headers(account="acct-1"):
    return internal_headers(account)


def project_all(container) -> int:
    """Every stored event into the read models, as the worker's projection consumer would (idempotent)."""
    applied = 0
    for envelope in container.event_store.read_all():
        container.read_models.apply(envelope)
        applied += 1
    return applied
