import pytest

from crm_platform.testing.service_fixtures import internal_headers, service_container, service_settings

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
