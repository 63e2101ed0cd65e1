"""GET /v1/contacts/{id}/timeline through the gateway app (real MongoDB for its keys and rate limits), in front of a
scripted service: limit and cursor checked at the edge, the contact deciding the whole read, one request for the
rate limits; and the 360 read's `timeline` section."""
import pytest

from crm_platform.pagination import encode_cursor

from devinfra.ports import free_port

from gateway.testing.scripted_contact import CONTACT_ID, Script, page
from gateway.testing.scripted_upstreams import gateway, scripted_gateway

TIMELINE = f"/v1/contacts/{CONTACT_ID}/timeline"
SOURCE = f"/v1/contact-timeline/{CONTACT_ID}"


@pytest.fixture
def script():
    return Script()


@pytest.fixture
def client(infra, unique_suffix, mongo_client, script):
    # a deadline no answering scripted service misses even on a loaded CI machine (0.5 s once timed a section out)
    with scripted_gateway(infra, unique_suffix, mongo_client, script, CONTACT_SECTION_DEADLINE_S=5.0) as client:
        yield client


def test_the_timeline_merges_every_sources_page_for_the_callers_account(client, script):
    test_client, auth = client
    answer = test_client.get(f"{TIMELINE}?limit=1", headers=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert [item["id"] for item in body["items"]] == ["e2"]  # each source served e2 and e1: given once each
    assert body["sources"] == {"contacts": "ok", "billing": "ok", "workflows": "ok"}
    assert body["next"] == f"{TIMELINE}?limit=1&cursor={body['next_cursor']}"
    following = test_client.get(body["next"], headers=auth).get_json()
    assert [path for path, _, _ in script.asked].count(SOURCE) == 6
    assert [query for path, query, _ in script.asked if path == SOURCE][-1] == {
        "limit": "1", "cursor": body["next_cursor"]}
    assert following["sources"] == body["sources"]
    account = {headers["X-Account-Id"] for _, _, headers in script.asked}
    assert len(account) == 1


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"), ("limit=-1", "limit"),
    ("cursor=garbage", "cursor"), ("cursor=%00", "cursor"), ("cursor=%ED%A0%80", "cursor"),
    ("cursor=" + "A" * 10_000, "cursor"), ("cursor=" + encode_cursor("-created_at", "2026-12-03T10:00:00", "n1"), "cursor"), ("since=yesterday", "since"),
])
def test_a_bad_limit_or_cursor_is_refused_at_the_edge_naming_it(client, script, query, field):
    test_client, auth = client
    answer = test_client.get(f"{TIMELINE}?{query}", headers=auth)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert set(answer.get_json()["errors"]) == {field}
    assert script.asked == []


def test_a_contact_the_service_does_not_show_is_a_404_with_no_timeline(client, script):
    test_client, auth = client
    del script.answers[f"/v1/contacts/{CONTACT_ID}"]
    answer = test_client.get(TIMELINE, headers=auth)
    assert answer.status_code == 404 and answer.headers["Content-Type"] == "application/problem+json"
    assert "items" not in answer.get_json()


def test_a_source_that_fails_is_named_and_left_out(client, script):
    test_client, auth = client
    script.answers[SOURCE] = (500, {"title": "Internal error"})
    body = test_client.get(TIMELINE, headers=auth).get_json()
    assert body == {"items": [], "next_cursor": None, "next": None,
                    "sources": {"contacts": "unavailable", "billing": "unavailable", "workflows": "unavailable"}}
    section = test_client.get(f"/v1/contacts/{CONTACT_ID}?include=timeline", headers=auth).get_json()["sections"]
    assert section == {"timeline": {"status": "unavailable", **body}}


def test_the_360_read_includes_the_timeline_when_asked(client, script):
    test_client, auth = client
    script.answers[SOURCE] = (200, page(*script.answers[SOURCE][1]["items"], next_cursor="more"))
    answer = test_client.get(f"/v1/contacts/{CONTACT_ID}?include=timeline", headers=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    section = answer.get_json()["sections"]["timeline"]
    assert section["status"] == "ok" and [item["id"] for item in section["items"]] == ["e2", "e1"]
    assert section["next"] == f"{TIMELINE}?limit=20&cursor={section['next_cursor']}"
    assert {query.get("limit") for path, query, _ in script.asked if path == SOURCE} == {"20"}


def test_the_contacts_service_down_is_a_503(infra, unique_suffix, mongo_client):
    test_client, auth, _ = gateway(infra, unique_suffix, mongo_client, f"http://127.0.0.1:{free_port()}")
    answer = test_client.get(TIMELINE, headers=auth)
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0


def test_the_timeline_counts_as_one_request_and_needs_a_key(client):
    test_client, auth = client
    assert test_client.get(TIMELINE).status_code == 401

    def left(answer) -> int:
        [policy] = [p.strip() for p in answer.headers["RateLimit"].split(",") if p.strip().startswith('"key";')]
        return int(dict(part.split("=") for part in policy.split(";")[1:])["r"])

    assert left(test_client.get(TIMELINE, headers=auth)) - left(test_client.get(TIMELINE, headers=auth)) == 1
