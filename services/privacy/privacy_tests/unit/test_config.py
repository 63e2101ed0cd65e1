"""The privacy settings: the signing key is required by the API alone (the worker never holds it)."""
import base64
import os

import pytest

from crm_platform.errors import ConfigurationError

from privacy import config

KEY = base64.b64encode(os.urandom(32)).decode()
ENVIRONMENT = {"MONGO_URI": "mongodb://localhost:27017", "KAFKA_BOOTSTRAP_SERVERS": "localhost:9092",
               "INTERNAL_TOKEN": "t" * 32, "MASTER_KEY": KEY}


def test_the_worker_starts_without_the_signing_key_and_the_api_refuses_to():
    assert config.load(ENVIRONMENT)["PRIVACY_SIGNING_KEY"] is None
    with pytest.raises(ConfigurationError) as refused:
        config.load_api(ENVIRONMENT)
    assert "PRIVACY_SIGNING_KEY" in str(refused.value)
    assert len(config.load_api({**ENVIRONMENT, "PRIVACY_SIGNING_KEY": KEY})["PRIVACY_SIGNING_KEY"]) == 32
    with pytest.raises(ConfigurationError):
        config.load({**ENVIRONMENT, "PRIVACY_SIGNING_KEY": "not base64!"})


def test_the_api_built_from_settings_without_the_key_refuses_too():
    from privacy.entrypoints.api import create_app

    with pytest.raises(ConfigurationError):
        create_app(config.load(ENVIRONMENT))
