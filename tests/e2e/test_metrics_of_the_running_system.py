"""The running system's metrics, scraped as Prometheus would: a contact created through the gateway is counted
by both APIs under their route templates, relayed and applied by the contacts worker."""
import requests
from prometheus_client.parser import text_string_to_metric_families

from .conftest import bearer, eventually


def scrape(system, process: str) -> dict[tuple, float]:
    """(sample name, labels...) -> value of one process's /metrics."""
    text = requests.get(system.metrics_urls[process], timeout=10,
                        headers={"Authorization": f"Bearer {system.env['METRICS_TOKEN']}"}).text
    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return sum(v for (sample, *pairs), v in samples.items() if sample == name and labels.items() <= dict(pairs).items())


def test_a_created_contact_is_counted_relayed_and_applied(system, account_a):
    created = requests.post(f"{system.gateway_url}/v1/contacts", json={"first_name": "Mesurée"},
                            headers=bearer(account_a), timeout=10)
    assert created.status_code == 201, created.text
    topic = f"{system.env['KAFKA_TOPIC_NAMESPACE']}contacts.events"

    worker = eventually(lambda: scrape(system, "contacts-worker"),
                        lambda m: value(m, "crm_consumer_events_applied_total", consumer="contacts.projection",
                                        topic=topic) >= 1)
    assert value(worker, "crm_outbox_events_relayed_total", topic=topic) >= 1
    assert value(worker, "crm_consumer_events_applied_total", consumer="contacts.projection", topic=topic) >= 1
    assert any(sample == "crm_consumer_lag_events" for sample, *_ in worker)

    gateway = scrape(system, "gateway-api")
    contacts = scrape(system, "contacts-api")
    assert value(gateway, "crm_http_requests_total", route="/v1/<resource>", method="POST", status="201") >= 1
    assert value(contacts, "crm_http_requests_total", route="/v1/contacts", method="POST", status="201") >= 1
    for process in ("gateway-api", "contacts-api", "contacts-worker"):
        text = requests.get(system.metrics_urls[process], timeout=10,
                            headers={"Authorization": f"Bearer {system.env['METRICS_TOKEN']}"}).text
        assert created.json()["id"] not in text and "Mesur" not in text


def test_the_gateways_metrics_are_not_public(system):
    assert requests.get(f"{system.gateway_url}/metrics", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-the-metrics-token"}
    assert requests.get(f"{system.gateway_url}/metrics", headers=wrong, timeout=10).status_code == 401


def test_every_process_of_every_service_serves_its_metrics(system):
    """A service whose entrypoints do not hand the kernel its metrics settings serves none (404, or no listener):
    every api and worker of the registry answers Prometheus, and every producing worker reports its outbox."""
    from crm_platform import registry

    for service in registry.load().services:
        for process in service.processes:
            answer = requests.get(system.metrics_urls[process.name], timeout=10,
                                  headers={"Authorization": f"Bearer {system.env['METRICS_TOKEN']}"})
            assert answer.status_code == 200, (process.name, answer.status_code)
            if process.kind == "worker" and service.produces:
                families = {f.name for f in text_string_to_metric_families(answer.text)}
                assert any(name.startswith("crm_outbox_") for name in families), (process.name, sorted(families))
