"""Every API built by the kernel counts its requests by route template and serves them at /metrics to
Prometheus's token only."""
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm_platform import metrics
from crm_platform.web import create_service_app

TOKEN = "metrics-token-0123456789"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    app = create_service_app("metrics-test", required_checks={}, log_level="WARNING",
                             internal_token="internal-token-0123456789", metrics_token=TOKEN)

    @app.get("/v1/things/<thing_id>")
    def get_thing(thing_id: str):
        return {"id": thing_id}

    @app.post("/v1/failures")
    def fail():
        raise RuntimeError("boom")

    return app


def samples(client, name: str) -> dict[tuple, float]:
    """The scraped samples of `name` (a sample name), keyed by their labels."""
    answer = client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {tuple(sorted(s.labels.items())): s.value for family in text_string_to_metric_families(answer.get_data(as_text=True))
            for s in family.samples if s.name == name}


def count(client, route: str, method: str, status: str) -> float:
    labels = tuple(sorted({"service": "metrics-test", "route": route, "method": method, "status": status}.items()))
    return samples(client, "crm_http_requests_total").get(labels, 0.0)


def test_a_request_is_counted_under_its_route_template_not_its_path(app):
    client = app.test_client()
    before = count(client, "/v1/things/<thing_id>", "GET", "200")
    headers = {"X-Internal-Token": "internal-token-0123456789"}
    assert client.get("/v1/things/louise.desnotes@example.org", headers=headers).status_code == 200
    assert client.get("/v1/things/zq-9137-id", headers=headers).status_code == 200
    assert count(client, "/v1/things/<thing_id>", "GET", "200") == before + 2
    scraped = client.get("/metrics", headers=SCRAPE).get_data(as_text=True)
    assert "louise" not in scraped and "zq-9137-id" not in scraped
    timed = samples(client, "crm_http_request_duration_seconds_count")
    assert timed[tuple(sorted({"service": "metrics-test", "route": "/v1/things/<thing_id>", "method": "GET",
                               "status": "200"}.items()))] >= 2


def test_errors_unknown_paths_and_odd_methods_are_counted_without_new_series(app):
    client = app.test_client()
    headers = {"X-Internal-Token": "internal-token-0123456789"}
    before_500 = count(client, "/v1/failures", "POST", "500")
    before_404 = count(client, "<unmatched>", "GET", "404")
    before_401 = count(client, "/v1/things/<thing_id>", "GET", "401")
    client.post("/v1/failures", headers=headers)
    client.get("/v1/no/such/path/42", headers=headers)
    client.get("/v1/things/x")  # no internal token
    client.open("/v1/things/x", method="BREW", headers=headers)
    assert count(client, "/v1/failures", "POST", "500") == before_500 + 1
    assert count(client, "<unmatched>", "GET", "404") == before_404 + 1
    assert count(client, "/v1/things/<thing_id>", "GET", "401") == before_401 + 1
    assert count(client, "<unmatched>", "other", "405") >= 1  # routing failed: no rule matched


def test_probes_and_scrapes_are_not_counted(app):
    client = app.test_client()
    client.get("/healthz")
    client.get("/metrics", headers=SCRAPE)
    routes = {dict(labels)["route"] for labels in samples(client, "crm_http_requests_total")}
    assert not routes & {"/healthz", "/readyz", "/metrics"}


def test_metrics_need_the_metrics_token_not_the_internal_one(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"X-Internal-Token": "internal-token-0123456789"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    assert client.get("/metrics", headers=SCRAPE).status_code == 200


def test_without_a_metrics_token_metrics_are_off(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)  # the environment is the service's config's to read, not the kernel's
    app = create_service_app("metrics-off-test", required_checks={}, log_level="WARNING")
    assert app.test_client().get("/metrics", headers=SCRAPE).status_code == 404


def test_the_kernel_metrics_have_these_names_and_labels():
    """Dashboards and alert rules (deploy/monitoring) query these names: renaming one breaks them."""
    described = {m._name: (m._type, m._labelnames) for m in (
        metrics.HTTP_REQUESTS, metrics.HTTP_REQUEST_DURATION, metrics.OUTBOX_EVENTS_RELAYED, metrics.OUTBOX_BACKLOG,
        metrics.OUTBOX_OLDEST_AGE, metrics.CONSUMER_EVENTS_APPLIED, metrics.CONSUMER_EVENTS_DEAD_LETTERED,
        metrics.CONSUMER_LAG, metrics.DEAD_LETTERS_WAITING, metrics.JOBS_RUNNING, metrics.JOB_ITEMS, metrics.JOBS_FINISHED)}
    assert described == {
        "crm_http_requests": ("counter", ("service", "route", "method", "status")),
        "crm_http_request_duration_seconds": ("histogram", ("service", "route", "method", "status")),
        "crm_outbox_events_relayed": ("counter", ("topic",)),
        "crm_outbox_backlog_commits": ("gauge", ("topic",)),
        "crm_outbox_oldest_age_seconds": ("gauge", ("topic",)),
        "crm_consumer_events_applied": ("counter", ("consumer", "topic")),
        "crm_consumer_events_dead_lettered": ("counter", ("consumer", "topic")),
        "crm_consumer_lag_events": ("gauge", ("consumer", "topic", "partition")),
        "crm_dead_letter_messages": ("gauge", ("topic",)),
        "crm_jobs_running": ("gauge", ("kind",)),
        "crm_job_items": ("counter", ("kind", "outcome")),
        "crm_jobs_finished": ("counter", ("kind", "status")),
    }


def test_a_metric_that_cannot_be_recorded_does_not_fail_the_request(app, monkeypatch, caplog):
    def broken(*labels):
        raise OSError("No space left on device")  # what a full PROMETHEUS_MULTIPROC_DIR would raise

    monkeypatch.setattr(metrics.HTTP_REQUESTS, "labels", broken)
    answer = app.test_client().get("/v1/things/x", headers={"X-Internal-Token": "internal-token-0123456789"})
    assert answer.status_code == 200
    assert "request not recorded in the metrics" in caplog.text


def test_a_request_refused_before_the_clock_started_is_counted_but_not_timed(app):
    """A hook that refuses a request before the metrics' clock starts: no duration to observe (not 0 s)."""
    def refuse():
        from flask import request

        from crm_platform.errors import Unauthorized
        if request.path != "/metrics":
            raise Unauthorized("refused first")

    app.before_request_funcs.setdefault(None, []).insert(0, refuse)
    client = app.test_client()
    labels = tuple(sorted({"service": "metrics-test", "route": "/v1/things/<thing_id>", "method": "GET",
                           "status": "401"}.items()))
    before_count = count(client, "/v1/things/<thing_id>", "GET", "401")
    before_timed = samples(client, "crm_http_request_duration_seconds_count").get(labels, 0.0)
    assert client.get("/v1/things/x").status_code == 401
    assert count(client, "/v1/things/<thing_id>", "GET", "401") == before_count + 1
    assert samples(client, "crm_http_request_duration_seconds_count").get(labels, 0.0) == before_timed
