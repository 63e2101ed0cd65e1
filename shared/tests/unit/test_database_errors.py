"""Which database errors are the data's fault (dead-letter, 422) and which are outages (wait, 503)."""
import pytest
from kafka.errors import KafkaConnectionError
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    ServerSelectionTimeoutError,
    WriteError,
)

from crm_platform.errors import DependencyUnavailable, InvalidInput
from crm_platform.outages import is_transient
from crm_platform.mongo import DataRefused, is_outage, translated

# What FerretDB on PostgreSQL answers: code 1 for a refused value and for a lost database alike.
FERRETDB_NUL = OperationFailure("[collection.go:163] ERROR: unsupported Unicode escape sequence (SQLSTATE 22P05)", 1)
FERRETDB_DOWN = OperationFailure("[pool.go:87] failed to connect to `host=127.0.0.1`: context deadline exceeded", 1)


@pytest.mark.parametrize("refused", [
    WriteError("Cannot apply $inc to a value of non-numeric type", 14),
    WriteError("invalid key: \"$x\"", 2),
    DuplicateKeyError("E11000 duplicate key error", 11000),
    BulkWriteError({"writeErrors": [{"code": 11000}, {"code": 2}]}),
    FERRETDB_NUL,
])
def test_a_refused_value_is_bad_data(refused):
    assert not is_outage(refused) and not is_transient(refused)
    assert isinstance(translated(refused, "event store"), DataRefused)


@pytest.mark.parametrize("outage", [
    ServerSelectionTimeoutError("no servers"), AutoReconnect("lost"), NetworkTimeout("timed out"),
    NotPrimaryError("not primary"), ExecutionTimeout("time limit", 50), FERRETDB_DOWN,
    OperationFailure("write conflict", 112), OperationFailure("interrupted at shutdown", 11600),
    BulkWriteError({"writeErrors": [{"code": 11000}, {"code": 11600}]}),  # one not the data's fault: wait
    OperationFailure("something new", 424242),  # unknown: waited out, never dead-lettered
])
def test_anything_not_known_as_bad_data_is_an_outage(outage):
    assert is_outage(outage) and is_transient(outage)
    assert isinstance(translated(outage, "event store"), DependencyUnavailable)


def test_a_consumer_waits_out_broker_and_dependency_outages_and_dead_letters_the_rest():
    assert is_transient(KafkaConnectionError()) and is_transient(DependencyUnavailable("down"))
    assert not is_transient(ValueError("a bug")) and not is_transient(KeyError("payload"))


def test_a_dead_lettered_error_names_its_type_and_code_never_the_value_the_database_quoted():
    from crm_platform.event_consumer import _described

    refused = WriteError('invalid input syntax for type numeric: "Louise Desnotes"', code=1)
    assert _described(refused) == "WriteError: code 1"
    assert "Louise" not in _described(InvalidInput("louise@papier.fr is held by another contact"))
