"""The contacts service's settings: limits an operator cannot set past what the service promises."""
import base64
import os

import pytest

from crm_platform.settings import ConfigurationError

from contacts import config

REQUIRED = {"MONGO_URI": "mongodb://127.0.0.1:1/", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "INTERNAL_TOKEN": "t" * 32, "MASTER_KEY": base64.b64encode(os.urandom(32)).decode()}


def test_uploads_are_kept_a_week_by_default():
    assert config.load(REQUIRED)["IMPORT_RETENTION_DAYS"] == 7


@pytest.mark.parametrize("days", ["0", "31", "365"])
def test_uploads_holding_an_erased_person_cannot_be_kept_past_the_month_an_erasure_allows(days):
    with pytest.raises(ConfigurationError, match="IMPORT_RETENTION_DAYS"):
        config.load({**REQUIRED, "IMPORT_RETENTION_DAYS": days})


def test_a_month_of_retention_is_allowed():
    assert config.load({**REQUIRED, "IMPORT_RETENTION_DAYS": "30"})["IMPORT_RETENTION_DAYS"] == 30
