"""A new service is one folder plus one registry entry: the entry alone reaches the Procfile, the dev
environment and the gateway's routes and settings (the folder is checked by test_deploy_files.py)."""
import importlib
import runpy
from pathlib import Path

import pytest

from crm_platform import registry

REPO = Path(__file__).resolve().parents[1]
BILLING = """
[services.billing]
package = "billing"
port = 8102
db_setting = "BILLING_DB"
routes = ["invoices"]
jobs = true
produces = ["billing.events"]
processes = { api = "billing.entrypoints.api:create_app()", worker = "billing.entrypoints.worker" }
"""


@pytest.fixture
def with_billing(monkeypatch):
    shipped = (Path(registry.__file__).parent / "services.toml").read_text()
    monkeypatch.setattr(registry, "load", lambda: registry.parse(shipped + BILLING))
    return registry.load()


def test_the_procfile_runs_its_api_and_worker(with_billing):
    text = runpy.run_path(str(REPO / "scripts" / "procfile.py"))["procfile"](with_billing)
    assert ("billing-api: gunicorn -c services/billing/gunicorn.conf.py --bind ${BILLING_BIND} "
            "'billing.entrypoints.api:create_app()'\n") in text
    assert "billing-worker: python -m billing.entrypoints.worker\n" in text
    assert "contacts-api:" in text and "gateway-worker:" in text


def test_the_dev_environment_gives_its_address_to_the_gateway(with_billing):
    addresses = runpy.run_path(str(REPO / "scripts" / "dev_env.py"))["addresses"]
    values = addresses(with_billing, {"BILLING_PORT": "9102"})
    assert values["BILLING_BIND"] == "127.0.0.1:9102" and values["BILLING_URL"] == "http://127.0.0.1:9102"
    assert values["CONTACTS_URL"] == "http://127.0.0.1:8101" and "GATEWAY_URL" not in values


def test_the_gateway_routes_to_it_and_requires_its_url(with_billing, monkeypatch):
    from gateway import config
    try:
        importlib.reload(config)  # the gateway reads the registry once, at import
        assert config.ROUTES["invoices"] == "billing" and config.ROUTES["labels"] == "contacts"
        assert config.JOB_SERVICES == ("contacts", "billing")
        assert config.GatewaySettings().fields["BILLING_URL"].required
    finally:
        monkeypatch.undo()
        importlib.reload(config)  # back to the shipped registry for the tests that follow
    assert "invoices" not in config.ROUTES
