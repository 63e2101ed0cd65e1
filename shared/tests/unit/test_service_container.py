"""The kernel's ServiceContainer: the wiring every service's Container builds on, named after the service."""
from __future__ import annotations

import pytest

from crm_platform import service_container
from crm_platform.contracts.privacy import PRIVACY_TOPIC
from crm_platform.service_container import ServiceContainer

SETTINGS = {"MONGO_URI": "mongodb://db.invalid:27017", "MONGO_SERVER_SELECTION_TIMEOUT_MS": 100,
            "MONGO_CONNECT_TIMEOUT_MS": 100, "MONGO_SOCKET_TIMEOUT_MS": 100, "EXAMPLE_DB": "crm_example",
            "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092", "KAFKA_TOPIC_NAMESPACE": "run7-"}


class ExampleContainer(ServiceContainer):
    service_name = "example"
    database_setting = "EXAMPLE_DB"
    events_topic_name = "example.events"


class FakeMongo:
    """Databases as dicts of collection names (no server in a unit test)."""

    def database(self, name: str) -> dict:
        return {"leases": f"{name}.leases", "name": name}


@pytest.fixture
def container() -> ExampleContainer:
    container = ExampleContainer(SETTINGS)
    container.mongo = FakeMongo()
    return container


@pytest.fixture
def kafka_calls(monkeypatch) -> list:
    calls = []
    monkeypatch.setattr(service_container, "make_consumer", lambda servers, **options: calls.append(options))
    monkeypatch.setattr(service_container, "make_producer", lambda servers, **options: calls.append(options))
    return calls


def test_the_database_is_the_one_its_setting_names(container):
    assert container.db["name"] == "crm_example"


def test_topics_carry_the_environment_s_namespace(container):
    assert container.topic("contacts.events") == "run7-contacts.events"
    assert container.events_topic == "run7-example.events"
    assert container.privacy_topic == f"run7-{PRIVACY_TOPIC}"


def test_each_consumer_purpose_is_a_group_of_its_own_named_after_the_service(container, kafka_calls):
    container.consumer("projection", "run7-a", "run7-b")
    container.privacy_consumer()
    container.producer()
    assert kafka_calls == [
        {"group_id": "run7-example.projection", "topics": ["run7-a", "run7-b"], "client_id": "example-projection"},
        {"group_id": "run7-example.privacy", "topics": [f"run7-{PRIVACY_TOPIC}"], "client_id": "example-privacy"},
        {"client_id": "example-producer"}]


def test_named_leases_live_in_the_service_s_leases_collection(container):
    lease = container.lease("issue-sweep")
    assert (lease._collection, lease._name) == ("crm_example.leases", "issue-sweep")


def test_a_service_without_a_privacy_participant_says_so():
    with pytest.raises(NotImplementedError, match="example"):
        ExampleContainer(SETTINGS).privacy_participant()


def test_the_privacy_handler_answers_with_the_service_s_participant():
    participant, store, exchange = object(), object(), object()

    class Participating(ExampleContainer):
        event_store = store
        privacy_exchange = exchange

        def privacy_participant(self):
            return participant

    handler = Participating(SETTINGS).privacy_handler()
    assert (handler._service, handler._participant, handler._store, handler._exchange) == (
        "example", participant, store, exchange)
