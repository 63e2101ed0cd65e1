"""The sweeps of expired idempotency records and rate-limit tickets, statement by statement on the real server:
FerretDB reads the whole collection for any statement on `expires_at`, so a sweep must make one."""
from datetime import datetime, timedelta, timezone

import pytest
from pymongo import MongoClient

from crm_platform.testing.statements import Statements

from gateway.adapters.idempotency_records import MongoIdempotencyRecords
from gateway.adapters.rate_limit_counters import MongoRateLimitCounters

from gateway.testing.idempotency_records_contract import record

NOW = datetime.now(timezone.utc).replace(microsecond=0)


class OneDatabase:
    """What MongoRateLimitCounters asks of a MongoConnection, on a client of the test's."""

    def __init__(self, client: MongoClient) -> None:
        self._client = client

    def database(self, name: str):
        return self._client[name]


@pytest.fixture
def statements(infra, mongo_client, unique_suffix):
    listener = Statements()
    client = MongoClient(infra.mongo_uri, event_listeners=[listener])
    yield client[f"test_{unique_suffix}_sweeps"], listener
    client.close()
    mongo_client.drop_database(f"test_{unique_suffix}_sweeps")


def test_the_rate_limit_sweep_is_one_statement_however_many_tickets_expired(statements):
    database, listener = statements
    counters = MongoRateLimitCounters(OneDatabase(database.client), database.name)
    for n in range(1, 1002):
        counters.take("key:k1:key:100", n, NOW - timedelta(seconds=1))
    counters.take("key:k1:key:101", 1, NOW + timedelta(seconds=1))
    listener.names.clear()
    assert counters.delete_expired(NOW) == 1001
    assert listener.names == ["delete"]
    assert counters.taken("key:k1:key:101", 1)


def test_the_idempotency_sweep_is_one_statement_per_collection_however_many_records_expired(statements):
    database, listener = statements
    records = MongoIdempotencyRecords(database["idempotency_records"])
    for n in range(5):
        records.add(record(f"r-{n}", NOW - timedelta(hours=25)))
    records.add(record("r-new", NOW))
    listener.names.clear()
    assert records.delete_expired(NOW) == 5
    assert listener.names == ["delete", "delete"]  # the records, and the claims of takeovers
    assert records.get("r-new") is not None
