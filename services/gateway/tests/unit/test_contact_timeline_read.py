"""The merged timeline's fan-out (issue 14, item 1), against a scripted service per source over HTTP: each asked
from the same position in parallel within the section deadline, a slow one `timeout`, a down or failing one
`unavailable` and left out of the page, the contact deciding the whole read."""
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from crm_platform.errors import DependencyUnavailable
from crm_platform.timeline import timeline_cursor

from devinfra.ports import free_port

from gateway.adapters.upstream import UpstreamClient, UpstreamTimeout
from gateway.adapters.upstream_reads import UpstreamReader
from gateway.service_layer.contact_timeline import read_timeline
from gateway.testing.scripted_contact import CONTACT, CONTACT_ID, Script, page
from gateway.testing.scripted_upstreams import serving

from .test_contact_timeline_merge import T0, entry

IDENTITY = {"X-Account-Id": "acc-1", "X-Actor": "api-key:k1", "X-Request-Id": "r1", "X-Correlation-Id": "r1"}
SOURCES = ("contacts", "billing", "workflows")
TIMELINE = f"/v1/contact-timeline/{CONTACT_ID}"
DEADLINE_S = 1.5
MARGIN_S = 0.75


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(16) as executor:
        yield executor


@pytest.fixture
def scripts():
    """A service per source; contacts also shows the contact."""
    scripts = {name: Script(answers={}) for name in SOURCES}
    scripts["contacts"].answers = {f"/v1/contacts/{CONTACT_ID}": (200, CONTACT),
                                   TIMELINE: (200, page(entry("c2", 5), entry("c1", 1)))}
    scripts["billing"].answers = {TIMELINE: (200, page(entry("b1", 3)))}
    scripts["workflows"].answers = {TIMELINE: (200, page(entry("w2", 4), entry("w1", 2), next_cursor="more"))}
    return scripts


@pytest.fixture
def urls(scripts):
    with ExitStack() as stack:
        yield {name: stack.enter_context(serving(script.handler())) for name, script in scripts.items()}


def read(urls, pool, limit=3, cursor=None, deadline_s=DEADLINE_S, sources=SOURCES, contact_deadline_s=5.0):
    reader = UpstreamReader(UpstreamClient("t" * 32, 5.0), urls, IDENTITY)
    return read_timeline(reader, pool, sources, CONTACT_ID, limit, cursor, deadline_s, contact_deadline_s)


def test_every_source_is_asked_from_the_same_position_and_the_pages_merged(urls, scripts, pool):
    cursor = timeline_cursor(T0, "zz")
    merged = read(urls, pool, cursor=cursor).timeline
    assert [item["id"] for item in merged.items] == ["c2", "w2", "b1"]
    assert merged.sources == {"contacts": "ok", "billing": "ok", "workflows": "ok"}
    assert merged.next_cursor == timeline_cursor(T0.replace(second=3), "b1")
    assert merged.next == f"/v1/contacts/{CONTACT_ID}/timeline?limit=3&cursor={merged.next_cursor}"
    for name, script in scripts.items():
        asked = [(query, headers) for path, query, headers in script.asked if path == TIMELINE]
        assert [query for query, _ in asked] == [{"limit": "3", "cursor": cursor}], name
        assert {header: asked[0][1][header] for header in IDENTITY} == IDENTITY


def test_the_last_page_has_no_next_cursor(urls, scripts, pool):
    scripts["workflows"].answers[TIMELINE] = (200, page(entry("w1", 2)))
    merged = read(urls, pool, limit=10).timeline
    assert [item["id"] for item in merged.items] == ["c2", "b1", "w1", "c1"]
    assert merged.next_cursor is None and merged.next is None


def test_a_slow_source_times_out_within_the_deadline_and_is_left_out(urls, scripts, pool):
    scripts["billing"].delays = {TIMELINE: 3.0}
    started = time.monotonic()
    merged = read(urls, pool, limit=10).timeline
    assert time.monotonic() - started < DEADLINE_S + MARGIN_S
    assert merged.sources == {"contacts": "ok", "billing": "timeout", "workflows": "ok"}
    assert [item["id"] for item in merged.items] == ["c2", "w2", "w1", "c1"]


def test_a_slow_contacts_service_is_a_timeout_at_the_contact_deadline_not_later(urls, scripts, pool):
    """The review found the timeline route waiting for the contact without a bound, as the 360 read once did."""
    scripts["contacts"].delays = {f"/v1/contacts/{CONTACT_ID}": 3.0}
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        read(urls, pool, contact_deadline_s=0.5)
    assert time.monotonic() - started < 0.5 + MARGIN_S


def test_a_source_down_failing_or_answering_no_page_is_unavailable(urls, scripts, pool):
    scripts["billing"].answers[TIMELINE] = (500, {"title": "Internal error"})
    scripts["workflows"].answers[TIMELINE] = (200, {"items": [{"id": "w1", "at": "not a date"}]})
    merged = read(urls, pool, limit=10).timeline
    assert merged.sources == {"contacts": "ok", "billing": "unavailable", "workflows": "unavailable"}
    assert [item["id"] for item in merged.items] == ["c2", "c1"]
    down = {**urls, "billing": f"http://127.0.0.1:{free_port()}"}
    assert read(down, pool).timeline.sources["billing"] == "unavailable"


def test_the_sources_are_asked_in_parallel(urls, scripts, pool):
    for script in scripts.values():
        script.delays = {TIMELINE: 0.4}
    started = time.monotonic()
    assert set(read(urls, pool).timeline.sources.values()) == {"ok"}
    assert time.monotonic() - started < 0.4 * 2


def test_a_contact_the_service_does_not_show_is_the_answer_and_no_source_counts(urls, scripts, pool):
    del scripts["contacts"].answers[f"/v1/contacts/{CONTACT_ID}"]
    result = read(urls, pool)
    assert result.contact_answer.status_code == 404 and result.timeline is None


def test_the_contacts_service_down_fails_the_read(pool):
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DependencyUnavailable):
        read(dict.fromkeys(SOURCES, down), pool)


def test_only_the_sources_given_are_asked(urls, scripts, pool):
    merged = read(urls, pool, sources=("contacts",)).timeline
    assert merged.sources == {"contacts": "ok"} and not scripts["billing"].asked
