"""Every MongoDB client gets its timeouts from the settings, so no statement can hang a worker or a request forever."""
import pytest

from crm_platform.errors import ConfigurationError
from crm_platform.mongo import MongoConnection
from crm_platform.settings import PlatformSettings, load_settings

ENV = {"MONGO_URI": "mongodb://127.0.0.1:1/", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092", "INTERNAL_TOKEN": "x" * 32}


def client_options(settings):
    client = MongoConnection.from_settings(settings, app_name="test").client  # connects lazily: no server needed
    try:
        return client.options
    finally:
        client.close()


def test_the_client_gets_the_timeouts_the_settings_give():
    settings = load_settings(PlatformSettings(), {**ENV, "MONGO_SERVER_SELECTION_TIMEOUT_MS": "1500",
                                                  "MONGO_CONNECT_TIMEOUT_MS": "2500", "MONGO_SOCKET_TIMEOUT_MS": "45000"})
    options = client_options(settings)
    assert options.server_selection_timeout == 1.5
    assert options.pool_options.connect_timeout == 2.5
    assert options.pool_options.socket_timeout == 45.0


def test_by_default_every_timeout_is_set_and_bounded():
    options = client_options(load_settings(PlatformSettings(), ENV))
    assert options.server_selection_timeout == 5.0
    assert options.pool_options.connect_timeout == 5.0
    assert options.pool_options.socket_timeout == 60.0  # above the slowest reads measured on FerretDB


@pytest.mark.parametrize("variable", ["MONGO_SERVER_SELECTION_TIMEOUT_MS", "MONGO_CONNECT_TIMEOUT_MS",
                                      "MONGO_SOCKET_TIMEOUT_MS"])
@pytest.mark.parametrize("value", ["0", "-1", "86400000"])
def test_a_timeout_that_would_hang_or_fail_everything_is_refused_at_start_up(variable, value):
    with pytest.raises(ConfigurationError, match=variable):
        load_settings(PlatformSettings(), {**ENV, variable: value})


def test_a_worker_loop_is_not_taken_for_stuck_while_one_statement_may_still_be_running():
    assert load_settings(PlatformSettings(), ENV)["WORKER_STUCK_AFTER_S"] * 1000 > 60_000
    with pytest.raises(ConfigurationError, match="WORKER_STUCK_AFTER_S"):
        load_settings(PlatformSettings(), {**ENV, "MONGO_SOCKET_TIMEOUT_MS": "90000", "WORKER_STUCK_AFTER_S": "60"})
