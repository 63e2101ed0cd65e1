import base64
import subprocess
import sys

import pytest

from crm_platform.errors import ConfigurationError
from crm_platform.settings import PersonalDataSettings, load_settings

GOOD = {
    "MONGO_URI": "mongodb://127.0.0.1:27017",
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
    "INTERNAL_TOKEN": "x" * 32,
    "MASTER_KEY": base64.b64encode(b"k" * 32).decode(),
}


def test_valid_environment_loads_with_defaults():
    settings = load_settings(PersonalDataSettings(), GOOD)
    assert settings["MASTER_KEY"] == b"k" * 32
    assert settings["KAFKA_TOPIC_NAMESPACE"] == ""
    assert settings["LOG_LEVEL"] == "INFO"


def test_every_bad_variable_is_named_in_one_error():
    env = {**GOOD, "MONGO_URI": "postgres://x", "MASTER_KEY": base64.b64encode(b"short").decode()}
    del env["INTERNAL_TOKEN"]
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(PersonalDataSettings(), env)
    message = str(excinfo.value)
    assert "MONGO_URI" in message and "MASTER_KEY" in message and "INTERNAL_TOKEN" in message


def test_settings_do_not_load_the_worker_runtime():
    """A web process reads its settings too: it has no business importing the worker's signal handling."""
    loaded = subprocess.run([sys.executable, "-c", "import sys, crm_platform.settings; "
                             "print('crm_platform.worker_runtime' in sys.modules)"], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False", loaded.stderr


def test_mail_settings_default_to_make_run_s_smtp_sink():
    settings = load_settings(PersonalDataSettings(), GOOD)
    assert (settings["SMTP_HOST"], settings["SMTP_PORT"], settings["SMTP_TLS"], settings["SMTP_USERNAME"]) == (
        "127.0.0.1", 22525, "none", None)
    assert settings["MAIL_FROM"] == "CRM <no-reply@crm.localhost>"


@pytest.mark.parametrize("bad, named", [
    ({"MAIL_FROM": "CRM <no-reply@crm.example>\r\nBcc: all@crm.example"}, "MAIL_FROM"),
    ({"MAIL_FROM": "nobody"}, "MAIL_FROM"),
    ({"SMTP_TLS": "tls"}, "SMTP_TLS"),
    ({"SMTP_USERNAME": "crm", "SMTP_PASSWORD": "secret"}, "SMTP_TLS"),  # a password never goes in clear
    ({"SMTP_PORT": "0"}, "SMTP_PORT"),
])
def test_bad_mail_settings_are_refused_by_name(bad, named):
    with pytest.raises(ConfigurationError, match=named):
        load_settings(PersonalDataSettings(), {**GOOD, **bad})


def test_a_login_loads_over_tls():
    settings = load_settings(PersonalDataSettings(), {**GOOD, "SMTP_USERNAME": "crm", "SMTP_PASSWORD": "secret",
                                                      "SMTP_TLS": "starttls", "SMTP_PORT": "587"})
    assert (settings["SMTP_USERNAME"], settings["SMTP_TLS"], settings["SMTP_PORT"]) == ("crm", "starttls", 587)
