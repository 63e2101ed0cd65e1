"""What a service's integration conftest builds: its settings on the test's servers, its Container, internal headers.

Each service keeps its own fixtures (conftests are per directory), each a line or two over these.
"""
from __future__ import annotations

import base64
import os
from types import ModuleType
from typing import Callable, Iterator

INTERNAL_TOKEN = "integration-test-internal-token"


def service_settings(config: ModuleType, db_setting: str, infra, unique_suffix: str, topic_namespace: str,
                     **overrides: str) -> dict:
    """The service's settings through its real loader (defaults and validation as in production), on this test's
    databases, key vault and topic namespace."""
    name = db_setting.removesuffix("_DB").lower()
    return config.load({
        "MONGO_URI": infra.mongo_uri,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "KAFKA_TOPIC_NAMESPACE": topic_namespace,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "KEYVAULT_DB": f"test_{unique_suffix}_keys",
        "PRIVACY_EXCHANGE_DB": f"test_{unique_suffix}_exchange",
        db_setting: f"test_{unique_suffix}_{name}",
        "LOG_LEVEL": "WARNING",
        **overrides,
    })


def service_container(container_class: Callable, settings: dict, mongo_client, db_setting: str) -> Iterator:
    """A Container with its indexes, for a fixture to yield; its databases dropped afterwards."""
    container = container_class(settings)
    container.ensure_indexes()
    yield container
    mongo_client.drop_database(settings[db_setting])
    mongo_client.drop_database(settings["KEYVAULT_DB"])
    if "PRIVACY_EXCHANGE_DB" in settings:
        mongo_client.drop_database(settings["PRIVACY_EXCHANGE_DB"])


def internal_headers(account: str = "acct-1", **extra: str) -> dict:
    """What the gateway sends a service: the internal token and the caller's account."""
    return {"X-Internal-Token": INTERNAL_TOKEN, "X-Account-Id": account, **extra}
