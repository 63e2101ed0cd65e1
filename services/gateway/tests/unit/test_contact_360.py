"""The aggregated contact read's fan-out (issue 14, item 1), against scripted services over HTTP: every section in
parallel within its deadline, a slow one `timeout`, a down one `unavailable`, the contact deciding the whole read."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from crm_platform.errors import DependencyUnavailable, InvalidInput

from devinfra.ports import free_port

from gateway.adapters.upstream import UpstreamClient, UpstreamTimeout
from gateway.adapters.upstream_reads import UpstreamReader
from gateway.domain.contact_sections import SECTION_NAMES, SECTIONS, label_names, requested_sections, timeline_requested
from gateway.service_layer.contact_360 import read_contact_360
from gateway.testing.scripted_contact import CONTACT, CONTACT_ID, Script
from gateway.testing.scripted_upstreams import serving

EVERY_SERVICE = frozenset({"contacts", "billing", "workflows"})
IDENTITY = {"X-Account-Id": "acc-1", "X-Actor": "api-key:k1", "X-Request-Id": "r1", "X-Correlation-Id": "r1"}
DEADLINE_S = 1.5  # well above what 9 local answers take on a loaded machine: only a slow one misses it
MARGIN_S = 0.75
SERVICE_SECTIONS = tuple(section.name for section in SECTIONS)  # what read_contact_360 reads (not the timeline)


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(16) as executor:
        yield executor


@pytest.fixture
def script():
    return Script()


@pytest.fixture
def service_url(script):
    with serving(script.handler()) as url:
        yield url


CONTACT_DEADLINE_S = 1.5


def read(urls: dict, pool, include=None, deadline_s=DEADLINE_S, contact_deadline_s=CONTACT_DEADLINE_S, as_of=None):
    reader = UpstreamReader(UpstreamClient("t" * 32, 5.0), urls, IDENTITY)
    return read_contact_360(reader, pool, CONTACT_ID, requested_sections(include, frozenset(urls)), deadline_s,
                            contact_deadline_s=contact_deadline_s, as_of=as_of)


def test_every_section_is_read_for_the_callers_account(service_url, script, pool):
    result = read({name: service_url for name in EVERY_SERVICE}, pool)
    assert result.contact_answer.json() == CONTACT
    assert set(result.sections) == set(SERVICE_SECTIONS)
    assert {name: section["status"] for name, section in result.sections.items()} == dict.fromkeys(SERVICE_SECTIONS, "ok")
    assert result.sections["labels"]["items"] == [{"key": "vip", "name": "VIP"}]  # "gone" is no live label
    notes = result.sections["notes"]
    assert notes["items"] == [{"id": "n1", "text": "called"}] and notes["next_cursor"] == "n-next"
    assert notes["next"] == f"/v1/contacts/{CONTACT_ID}/notes?limit=20&cursor=n-next"
    assert result.sections["invoices"]["items"] == [{"id": "i1", "contact_id": CONTACT_ID}]
    assert result.sections["invoices"]["next"] is None
    queries = {path: query for path, query, _ in script.asked}
    for path in ("/v1/invoices", "/v1/quotes", "/v1/cards", "/v1/tasks"):
        assert queries[path] == {"contact_id": CONTACT_ID, "limit": "20"}
    assert queries["/v1/labels"] == {}
    for _, _, headers in script.asked:  # each service scopes its part as it scopes a proxied request
        assert {name: headers[name] for name in IDENTITY} == IDENTITY and headers["X-Internal-Token"] == "t" * 32


def test_the_sections_are_read_in_parallel(service_url, script, pool):
    script.delays = {path: 0.25 for path in script.answers}
    started = time.monotonic()
    result = read({name: service_url for name in EVERY_SERVICE}, pool, deadline_s=1.0)
    assert {section["status"] for section in result.sections.values()} == {"ok"}
    assert time.monotonic() - started < 0.25 * 3  # in turn, 9 requests would take 2.25 s


def test_a_slow_section_times_out_within_the_deadline(service_url, script, pool):
    script.delays = {"/v1/invoices": 3.0}
    started = time.monotonic()
    result = read({name: service_url for name in EVERY_SERVICE}, pool)
    elapsed = time.monotonic() - started
    assert result.sections["invoices"] == {"status": "timeout"}
    assert {name for name, section in result.sections.items() if section["status"] == "ok"} == \
        set(SERVICE_SECTIONS) - {"invoices"}
    assert DEADLINE_S <= elapsed < DEADLINE_S + MARGIN_S


def test_a_service_that_is_down_leaves_its_sections_unavailable(service_url, pool):
    urls = {"contacts": service_url, "workflows": service_url, "billing": f"http://127.0.0.1:{free_port()}"}
    result = read(urls, pool)
    assert result.sections["invoices"] == {"status": "unavailable"}
    assert result.sections["quotes"] == {"status": "unavailable"}
    assert result.sections["cards"]["status"] == result.sections["tasks"]["status"] == "ok"


def test_a_failing_or_refusing_service_leaves_its_section_unavailable(service_url, script, pool):
    script.answers["/v1/cards"] = (500, {"title": "Internal error"})
    script.answers["/v1/tasks"] = (422, {"title": "Invalid input"})
    result = read({name: service_url for name in EVERY_SERVICE}, pool)
    assert result.sections["cards"] == result.sections["tasks"] == {"status": "unavailable"}


def test_a_contact_the_service_does_not_show_is_the_answer_of_the_whole_read(service_url, script, pool):
    """Another account's, a deleted or an erased contact: 404, and no section's answer is kept."""
    del script.answers[f"/v1/contacts/{CONTACT_ID}"]
    result = read({name: service_url for name in EVERY_SERVICE}, pool)
    assert result.contact_answer.status_code == 404 and result.sections is None


def test_the_contacts_service_down_fails_the_read(pool):
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DependencyUnavailable):
        read({name: down for name in EVERY_SERVICE}, pool)


def test_a_slow_contacts_service_is_a_timeout_at_the_contact_deadline_not_later(service_url, script, pool):
    """The contact's own read has its bound (CONTACT_READ_DEADLINE_S): before, it waited as long as the service."""
    script.delays = {f"/v1/contacts/{CONTACT_ID}": 3.0}
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        read({name: service_url for name in EVERY_SERVICE}, pool, contact_deadline_s=0.5)
    assert 0.5 <= time.monotonic() - started < 0.5 + MARGIN_S


def test_a_contact_read_queued_behind_a_busy_pool_is_a_timeout_at_the_contact_deadline(service_url):
    """The pool is shared by every read of the process: a contact read waiting for a thread is bounded too."""
    with ThreadPoolExecutor(1) as busy_pool:
        busy_pool.submit(time.sleep, 2.0)  # another read's section holds the only thread
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout):
            read({name: service_url for name in EVERY_SERVICE}, busy_pool, contact_deadline_s=0.5)
        assert time.monotonic() - started < 0.5 + MARGIN_S


AS_OF = "2026-01-31T09:30:00.000000+00:00"


def test_as_of_is_asked_of_the_contact_its_labels_and_notes_and_the_other_sections_say_they_cannot(
        service_url, script, pool):
    result = read({name: service_url for name in EVERY_SERVICE}, pool, as_of=AS_OF)
    queries = {path: query for path, query, _ in script.asked}
    assert queries == {f"/v1/contacts/{CONTACT_ID}": {"as_of": AS_OF}, "/v1/labels": {"as_of": AS_OF},
                       f"/v1/contacts/{CONTACT_ID}/notes": {"limit": "20", "as_of": AS_OF}}
    assert {name: section["status"] for name, section in result.sections.items()} == {
        "labels": "ok", "notes": "ok", **dict.fromkeys(("attachments", "invoices", "quotes", "cards", "tasks"),
                                                      "as_of_unsupported")}
    assert result.sections["notes"]["next"] == \
        f"/v1/contacts/{CONTACT_ID}/notes?limit=20&as_of=2026-01-31T09%3A30%3A00.000000%2B00%3A00&cursor=n-next"


def test_a_section_of_a_service_the_gateway_does_not_route_to_is_left_out(service_url, pool):
    result = read({"contacts": service_url}, pool, include="notes,invoices,cards")
    assert set(result.sections) == {"notes"}


def test_include_names_known_sections_in_any_order_and_number():
    assert [s.name for s in requested_sections("tasks, labels,tasks", EVERY_SERVICE)] == ["labels", "tasks"]
    assert requested_sections(None, EVERY_SERVICE) == SECTIONS
    assert requested_sections("", EVERY_SERVICE) == ()


def test_the_timeline_is_a_section_include_names_but_no_services_own():
    assert timeline_requested(None) and timeline_requested("notes, timeline") and not timeline_requested("notes")
    assert [s.name for s in requested_sections("timeline,notes", EVERY_SERVICE)] == ["notes"]


@pytest.mark.parametrize("include", ["labels,secrets", "LABELS", "x" * 201, ",".join(SECTION_NAMES * 8)])
def test_an_unknown_section_or_an_overlong_include_is_refused_naming_include(include):
    with pytest.raises(InvalidInput) as refused:
        requested_sections(include, EVERY_SERVICE)
    assert list(refused.value.errors) == ["include"]


def test_labels_are_named_in_the_contacts_order():
    labels = [{"key": "a", "name": "Alpha"}, {"key": "b", "name": "Beta"}]
    assert label_names(["b", "zz", "a"], labels) == [{"key": "b", "name": "Beta"}, {"key": "a", "name": "Alpha"}]


def test_the_section_deadline_is_a_setting_checked_at_start_up():
    from crm_platform import registry
    from crm_platform.errors import ConfigurationError

    from gateway import config

    base = {"MONGO_URI": "mongodb://db", "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "INTERNAL_TOKEN": "t" * 32,
            **{s.url_variable: f"http://{s.name}-api:{s.port}" for s in registry.load().upstreams}}
    assert config.load(base)["CONTACT_SECTION_DEADLINE_S"] == 1.5
    assert config.load({**base, "CONTACT_SECTION_DEADLINE_S": "0.25", "UPSTREAM_TIMEOUT_S": "0.2"})[
        "CONTACT_SECTION_DEADLINE_S"] == 0.25  # a call never waits more than UPSTREAM_TIMEOUT_S anyway
    with pytest.raises(ConfigurationError, match="CONTACT_SECTION_DEADLINE_S"):
        config.load({**base, "CONTACT_SECTION_DEADLINE_S": "0"})


def test_the_contact_deadline_is_a_setting_checked_at_start_up():
    from crm_platform import registry
    from crm_platform.errors import ConfigurationError

    from gateway import config

    base = {"MONGO_URI": "mongodb://db", "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "INTERNAL_TOKEN": "t" * 32,
            **{s.url_variable: f"http://{s.name}-api:{s.port}" for s in registry.load().upstreams}}
    assert config.load(base)["CONTACT_READ_DEADLINE_S"] == 5.0  # above the contacts service's read-your-writes wait
    with pytest.raises(ConfigurationError, match="CONTACT_READ_DEADLINE_S"):
        config.load({**base, "CONTACT_READ_DEADLINE_S": "0"})
