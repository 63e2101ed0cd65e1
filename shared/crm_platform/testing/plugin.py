"""pytest fixtures for integration tests against the REAL Kafka broker and MongoDB server.

They read KAFKA_BOOTSTRAP_SERVERS and MONGO_URI (set by `make test`, which
starts the local servers). Without them, and if a Docker daemon answers, they
start throwaway containers with testcontainers. Otherwise the test errors out
with what to do: an integration test never silently passes without its servers.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
from pymongo import MongoClient


@dataclass(frozen=True)
class Infra:
    mongo_uri: str
    kafka_bootstrap: str


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:  # no client library, no daemon, no permission: all mean "no Docker"
        return False


@pytest.fixture(scope="session")
def infra():
    mongo_uri, kafka = os.environ.get("MONGO_URI"), os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if mongo_uri and kafka:
        yield Infra(mongo_uri, kafka)
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDbContainer

        with MongoDbContainer("mongo:7") as mongo, KafkaContainer().with_kraft() as broker:
            yield Infra(mongo.get_connection_url(), broker.get_bootstrap_server())
        return
    pytest.fail(
        "integration tests need a real Kafka broker and MongoDB server: run `make test`, "
        "or set KAFKA_BOOTSTRAP_SERVERS and MONGO_URI",
        pytrace=False,
    )


@pytest.fixture
def unique_suffix() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def mongo_client(infra):
    client = MongoClient(infra.mongo_uri, tz_aware=True, serverSelectionTimeoutMS=10_000)
    yield client
    client.close()


@pytest.fixture
def mongo_db(mongo_client, unique_suffix):
    """A fresh database, dropped after the test."""
    name = f"test_{unique_suffix}"
    yield mongo_client[name]
    mongo_client.drop_database(name)


@pytest.fixture
def topic_namespace(unique_suffix) -> str:
    """A topic prefix of this test alone, so tests never read each other's events."""
    return f"test-{unique_suffix}."


@pytest.fixture
def smtp_sink():
    """A real SMTP server on a free port of 127.0.0.1 collecting what it receives (crm_platform.testing.smtp_sink)."""
    from crm_platform.testing.smtp_sink import SmtpSink  # aiosmtpd is a test requirement, not the kernel's

    with SmtpSink() as sink:
        yield sink
