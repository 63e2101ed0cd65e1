"""Settings, routes and upstream URLs (from the service registry); /v1/jobs asks each job-serving service in turn."""
import pytest

from crm_platform import registry
from crm_platform.errors import ConfigurationError, DependencyUnavailable

from gateway import config
from gateway.adapters.upstream import UpstreamNotReached, UpstreamTimeout
from gateway.entrypoints.api import _first_that_knows

BASE = {"MONGO_URI": "mongodb://db", "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "INTERNAL_TOKEN": "t" * 32}


def test_routes_and_upstreams_are_the_registrys():
    assert config.ROUTES == registry.load().routes
    assert config.ROUTES["saved-views"] == "contacts" and "jobs" not in config.ROUTES
    assert config.JOB_SERVICES == ("contacts",)
    upstreams = registry.load().upstreams
    settings = config.load({**BASE, **{s.url_variable: f"http://{s.name}-api:{s.port}/" for s in upstreams}})
    assert config.services(settings) == {s.name: f"http://{s.name}-api:{s.port}" for s in upstreams}
    assert config.services(settings)["contacts"] == "http://contacts-api:8101"


def test_a_missing_upstream_url_is_named_at_start_up():
    with pytest.raises(ConfigurationError, match="CONTACTS_URL: Missing data for required field"):
        config.load(BASE)


class Answer:
    def __init__(self, status_code):
        self.status_code, self.closed = status_code, False

    def close(self):
        self.closed = True


def sender(answers: dict):
    """A `send(service)` that answers from `answers` (an exception is raised) and records who was asked."""
    asked = []

    def send(service):
        asked.append(service)
        if isinstance(answers[service], Exception):
            raise answers[service]
        return answers[service]

    return send, asked


def test_the_first_service_that_knows_the_job_answers():
    unknown, found = Answer(404), Answer(200)
    send, asked = sender({"contacts": unknown, "billing": found, "workflows": Answer(200)})
    assert _first_that_knows(("contacts", "billing", "workflows"), send) == ("billing", found)
    assert asked == ["contacts", "billing"] and unknown.closed and not found.closed


def test_a_job_nobody_knows_gets_the_last_services_404():
    last = Answer(404)
    send, _ = sender({"contacts": Answer(404), "billing": last})
    assert _first_that_knows(("contacts", "billing"), send) == ("billing", last)


def test_one_service_is_asked_once_as_before():
    send, asked = sender({"contacts": Answer(404)})
    assert _first_that_knows(("contacts",), send)[1].status_code == 404 and asked == ["contacts"]


def test_a_service_that_does_not_answer_may_hold_the_job():
    down = DependencyUnavailable("the contacts service is unreachable; retry later")
    send, _ = sender({"contacts": down, "billing": Answer(404)})
    with pytest.raises(DependencyUnavailable) as raised:
        _first_that_knows(("contacts", "billing"), send)
    assert raised.value is down
    send, _ = sender({"contacts": down, "billing": Answer(200)})
    assert _first_that_knows(("contacts", "billing"), send)[0] == "billing"


def test_a_service_that_may_have_run_the_request_is_named_before_one_that_was_not_reached():
    timed_out = UpstreamTimeout("the contacts service did not answer in time; retry later")
    send, _ = sender({"contacts": timed_out, "billing": UpstreamNotReached("the billing service is unreachable")})
    with pytest.raises(DependencyUnavailable) as raised:
        _first_that_knows(("contacts", "billing"), send)
    assert raised.value is timed_out


@pytest.mark.parametrize("given, named", [
    ({"RATE_LIMIT_KEY_PER_SECOND": "700"}, "RATE_LIMIT_KEY_PER_SECOND: must be at most RATE_LIMIT_KEY_PER_MINUTE"),
    ({"RATE_LIMIT_KEY_PER_MINUTE": "1300"}, "RATE_LIMIT_KEY_PER_MINUTE: must be at most RATE_LIMIT_ACCOUNT_PER_MINUTE"),
    ({"RATE_LIMIT_KEY_PER_SECOND": "many"}, "RATE_LIMIT_KEY_PER_SECOND: Not a valid integer"),
])
def test_rate_limits_that_cannot_nest_are_named_at_start_up_against_the_defaults_too(given, named):
    urls = {s.url_variable: f"http://{s.name}-api:{s.port}/" for s in registry.load().upstreams}
    with pytest.raises(ConfigurationError, match=named):
        config.load({**BASE, **urls, **given})


def test_a_partial_validation_of_rate_limits_checks_them_against_the_defaults():
    schema = config.GatewaySettings()
    assert schema.validate({"RATE_LIMIT_KEY_PER_SECOND": "20"}, partial=True) == {}
    assert "RATE_LIMIT_KEY_PER_SECOND" in schema.validate({"RATE_LIMIT_KEY_PER_SECOND": "700"}, partial=True)
