"""The shared jobs API on a bare service app and a real JobStore: any service gets it by registering one blueprint."""
from types import SimpleNamespace

import pytest

from crm_platform.jobs import JobStore
from crm_platform.jobs_api import jobs_blueprint
from crm_platform.openapi import build_spec
from crm_platform.web import create_service_app


@pytest.fixture
def store(mongo_db):
    return JobStore(mongo_db["jobs"])


@pytest.fixture
def client(store):
    app = create_service_app("jobs-api-test", required_checks={}, log_level="WARNING")
    app.extensions["container"] = SimpleNamespace(jobs=store)
    app.register_blueprint(jobs_blueprint())
    return app.test_client()


def test_a_job_is_shown_to_its_account_only(client, store):
    job = store.submit("acct-1", "demo", ["a", "b"], {"secret": "params stay inside"})
    shown = client.get(f"/v1/jobs/{job['_id']}", headers={"X-Account-Id": "acct-1"}).get_json()
    assert shown["id"] == job["_id"] and (shown["status"], shown["total"], shown["processed"]) == ("queued", 2, 0)
    assert "items" not in shown and "params" not in shown
    other = client.get(f"/v1/jobs/{job['_id']}", headers={"X-Account-Id": "acct-2"})
    assert other.status_code == 404 and other.mimetype == "application/problem+json"


def test_cancelling_a_job_records_the_request(client, store):
    job = store.submit("acct-1", "demo", ["a"], {})
    response = client.post(f"/v1/jobs/{job['_id']}/cancel", headers={"X-Account-Id": "acct-1"})
    assert response.status_code == 200 and response.get_json()["cancel_requested"] is True


def test_two_apps_each_get_their_own_blueprint(store):
    specs = []
    for name in ("one", "two"):
        app = create_service_app(name, required_checks={}, log_level="WARNING")
        app.register_blueprint(jobs_blueprint())
        specs.append(build_spec(app, name, "1")["paths"])
    assert specs[0] == specs[1] and set(specs[0]) == {"/v1/jobs/{job_id}", "/v1/jobs/{job_id}/cancel"}
