"""A new service is one folder plus one registry entry: the entry alone reaches the Procfile, the dev
environment and the gateway's routes and settings (the folder is checked by test_deploy_files.py)."""
import importlib
import runpy
from pathlib import Path

import pytest

from crm_platform import registry

REPO = Path(__file__).resolve().parents[1]
SAMPLE = """
[services.sample]
package = "sample"
port = 8199
db_setting = "SAMPLE_DB"
routes = ["samples"]
jobs = true
produces = ["sample.events"]
processes = { api = "sample.entrypoints.api:create_app()", worker = "sample.entrypoints.worker" }
"""


@pytest.fixture
def with_sample(monkeypatch):
    shipped = (Path(registry.__file__).parent / "services.toml").read_text()
    monkeypatch.setattr(registry, "load", lambda: registry.parse(shipped + SAMPLE))
    return registry.load()


def test_the_procfile_runs_its_api_and_worker(with_sample):
    text = runpy.run_path(str(REPO / "scripts" / "procfile.py"))["procfile"](with_sample)
    assert ("sample-api: python scripts/keep_running.py sample-api -- gunicorn -c services/sample/gunicorn.conf.py "
            "--bind ${SAMPLE_BIND} 'sample.entrypoints.api:create_app()'\n") in text
    assert ("sample-worker: python scripts/keep_running.py sample-worker -- "
            "env METRICS_PORT=${SAMPLE_WORKER_METRICS_PORT} python -m sample.entrypoints.worker\n") in text
    assert "contacts-api:" in text and "gateway-worker:" in text


def test_the_dev_environment_gives_its_address_to_the_gateway(with_sample):
    addresses = runpy.run_path(str(REPO / "scripts" / "dev_env.py"))["addresses"]
    values = addresses(with_sample, {"SAMPLE_PORT": "9102"})
    assert values["SAMPLE_BIND"] == "127.0.0.1:9102" and values["SAMPLE_URL"] == "http://127.0.0.1:9102"
    assert values["CONTACTS_URL"] == "http://127.0.0.1:8101" and "GATEWAY_URL" not in values


def test_the_dev_environment_gives_its_worker_a_metrics_port_of_its_own(with_sample):
    addresses = runpy.run_path(str(REPO / "scripts" / "dev_env.py"))["addresses"]
    values = addresses(with_sample, {})
    assert values["SAMPLE_WORKER_METRICS_PORT"] == "9199"  # its port + 1000
    assert values["CONTACTS_WORKER_METRICS_PORT"] == "9101" and values["GATEWAY_WORKER_METRICS_PORT"] == "9080"
    assert addresses(with_sample, {"SAMPLE_WORKER_METRICS_PORT": "9500"})["SAMPLE_WORKER_METRICS_PORT"] == "9500"


def test_the_gateway_routes_to_it_and_requires_its_url(with_sample, monkeypatch):
    from gateway import config
    try:
        importlib.reload(config)  # the gateway reads the registry once, at import
        assert config.ROUTES["samples"] == "sample" and config.ROUTES["labels"] == "contacts"
        assert config.JOB_SERVICES == ("contacts", "sample")
        assert config.GatewaySettings().fields["SAMPLE_URL"].required
    finally:
        monkeypatch.undo()
        importlib.reload(config)  # back to the shipped registry for the tests that follow
    assert "samples" not in config.ROUTES
