"""The service registry: what it says about today's services, and the errors a bad entry gets."""
import pytest

from crm_platform import registry
from crm_platform.contracts.catalog import TOPICS
from crm_platform.registry import RegistryError, parse

GATEWAY = """
[services.gateway]
package = "gateway"
port = 8080
public = true
db_setting = "GATEWAY_DB"
produces = ["accounts.events"]
processes = { api = "gateway.entrypoints.api:create_app()", worker = "gateway.entrypoints.worker" }
"""
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


def test_the_shipped_registry_keeps_the_gateway_and_contacts_as_they_are():
    """What clients and deployments rely on; a new service adds to it without changing any of it."""
    shipped = registry.load()
    assert [s.name for s in shipped.services][:2] == ["gateway", "contacts"]
    assert shipped.public.name == "gateway" and shipped.public.port == 8080
    contacts = shipped.service("contacts")
    assert (contacts.port, contacts.db_setting, contacts.url_variable) == (8101, "CONTACTS_DB", "CONTACTS_URL")
    assert {route for route, owner in shipped.routes.items() if owner == "contacts"} == {
        "contacts", "labels", "custom-fields", "saved-views", "options", "contact-settings", "imports", "exports"}
    assert "contacts" in shipped.job_services
    # Topic names stay what the producers and consumers use today.
    assert shipped.service("gateway").produces == ("accounts.events",)
    assert contacts.produces == ("contacts.events",)
    assert [p.name for p in shipped.processes][:4] == ["gateway-api", "gateway-worker", "contacts-api", "contacts-worker"]
    assert contacts.process("worker").target == "contacts.entrypoints.worker"


def test_every_published_contract_is_produced_by_the_service_the_registry_says():
    shipped = registry.load()
    assert sorted(t for s in shipped.services for t in s.produces) == sorted(topic.name for topic in TOPICS)
    for topic in TOPICS:
        assert topic.name in shipped.service(topic.producer).produces, topic.name


def test_a_new_entry_is_a_new_upstream_with_its_routes_and_jobs():
    found = parse(GATEWAY + BILLING)
    assert [s.url_variable for s in found.upstreams] == ["BILLING_URL"]
    assert found.routes == {"invoices": "billing"}
    assert found.job_services == ("billing",)
    assert [p.name for p in found.processes][-2:] == ["billing-api", "billing-worker"]


@pytest.mark.parametrize("change, expected", [
    (("port = 8102", 'port = "8102"'), "services.billing.port: must be an integer from 1024 to 65535, got '8102'"),
    (("port = 8102", "port = 8080"), "port 8080 is claimed by gateway and billing"),
    (("port = 8102", "port = 9080"), "port 9080 is claimed by billing and gateway-worker metrics"),
    (("port = 8102", "port = 65000"), "services.billing.port: its worker's metrics port (66000, the port + 1000) "
                                      "is above 65535"),
    (('routes = ["invoices"]', 'routes = ["invoices", "jobs"]'), "'jobs' is not a route; set jobs = true instead"),
    (('routes = ["invoices"]', 'routes = ["Invoices"]'), "services.billing.routes: must be a list of lowercase"),
    (('"billing.events"', '"accounts.events"'), "topic 'accounts.events' is claimed by gateway and billing"),
    (("jobs = true", "job = true"), "services.billing: unknown keys ['job']"),
    (('db_setting = "BILLING_DB"\n', ""), "services.billing: missing ['db_setting']"),
    (('api = "billing.entrypoints.api:create_app()", ', ""), "services.billing.processes: needs an api"),
    (('worker = "billing', 'cron = "billing'), "services.billing.processes.cron: unknown process kind"),
    (('"billing.entrypoints.worker"', '"contacts.entrypoints.worker"'), "is outside its package 'billing'"),
    (("[services.billing]\n", "[services.billing]\npublic = true\n"), "exactly one service must be public"),
    (("[services.billing]", "[services.Billing]"), "services.Billing: a service name is lowercase"),
    (("jobs = true", "personal_data = 1"), "services.billing.personal_data: must be true or false, got 1"),
    (("jobs = true", 'timeline = "yes"'), "services.billing.timeline: must be true or false, got 'yes'"),
    (('produces = ["billing.events"]', "personal_data = true"), "services.billing: a service with personal_data "
                                                                "answers privacy requests on its own topic"),
])
def test_a_bad_entry_is_named_with_what_is_wrong(change, expected):
    old, new = change
    assert old in BILLING
    with pytest.raises(RegistryError) as raised:
        parse(GATEWAY + BILLING.replace(old, new))
    assert expected in str(raised.value)
    assert str(raised.value).startswith(registry.SOURCE)


def test_the_services_holding_personal_data_are_those_privacy_asks():
    assert registry.load().personal_data_services == ("contacts", "billing", "workflows")
    assert parse(GATEWAY + BILLING).personal_data_services == ()
    assert parse(GATEWAY + BILLING + "personal_data = true\n").personal_data_services == ("billing",)


def test_every_problem_is_reported_at_once():
    with pytest.raises(RegistryError) as raised:
        parse(GATEWAY + BILLING.replace("port = 8102", "port = 80").replace("jobs = true", "jobs = 1"))
    assert "services.billing.port" in str(raised.value) and "services.billing.jobs" in str(raised.value)


def test_broken_toml_and_an_empty_file_are_errors():
    with pytest.raises(RegistryError, match="not valid TOML"):
        parse("[services.gateway\n")
    with pytest.raises(RegistryError, match=r"no \[services.<name>\] table"):
        parse("")


def test_an_unknown_service_is_a_key_error_naming_the_known_ones():
    known = ", ".join(service.name for service in registry.load().services)
    with pytest.raises(KeyError, match=f"known: {known}"):
        registry.load().service("no-such-service")


def test_an_event_name_means_one_contract_across_all_topics():
    """Upcasting finds a contract by event name: two topics may not both publish, say, `Deleted`, with two
    contracts. The privacy replies are the one contract every answering service's topic lists (the kernel's)."""
    by_name: dict = {}
    clashes = [contract.name for topic in TOPICS for contract in topic.events
               if by_name.setdefault(contract.name, contract) is not contract]
    assert clashes == []


def test_the_services_keeping_a_timeline_are_those_the_gateway_merges():
    assert registry.load().timeline_services == ("contacts", "billing", "workflows")
    assert parse(GATEWAY + BILLING).timeline_services == ()
    assert parse(GATEWAY + BILLING + "timeline = true\n").timeline_services == ("billing",)
