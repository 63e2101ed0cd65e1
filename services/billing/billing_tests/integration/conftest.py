import pytest

from crm_platform.testing.service_fixtures import internal_headers, service_container, service_settings

from billing import config
from billing.bootstrap import Container
from billing.entrypoints.api import create_app


@pytest.fixture
def settings(infra, unique_suffix, topic_namespace):
    return service_settings(config, "BILLING_DB", infra, unique_suffix, topic_namespace, KAFKA_TOPIC_PARTITIONS="1")


@pytest.fixture
def container(settings, mongo_client):
    for container in service_container(Container, settings, mongo_client, "BILLING_DB"):
        container.note_document_parties()  # as the worker does at start: on a new store, only the marker
        try:
            yield container
        finally:  # the printing consumer's render process, if keep_printed started it
            container.close_printing_renderer()


@pytest.fixture
def client(container):
    app = create_app(container.settings)
    app.extensions["container"] = container  # the test's container, whose databases it drops
    return app.test_client()


def headers(account="acct-1", **extra):
    return internal_headers(account, **extra)
