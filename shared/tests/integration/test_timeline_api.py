"""The timeline page every service serves to the gateway, on a bare service app and a real projection."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from crm_platform.openapi import build_spec
from crm_platform.timeline import TimelineEntry, TimelineProjection
from crm_platform.timeline_api import timeline_blueprint
from crm_platform.web import create_service_app

AT = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)


@pytest.fixture
def projection(mongo_db):
    projection = TimelineProjection(mongo_db["timeline"])
    projection.ensure_indexes()
    return projection


@pytest.fixture
def app(projection):
    app = create_service_app("timeline-api-test", required_checks={}, log_level="WARNING")
    app.extensions["container"] = SimpleNamespace(timeline=projection)
    app.register_blueprint(timeline_blueprint())
    return app


def test_an_accounts_page_of_one_contact_newest_first(app, projection):
    projection.record("acct-1", "c1", TimelineEntry("e1", AT, "invoice.issued", "invoice", "i1", {"number": "F-1"}))
    projection.record("acct-1", "c1", TimelineEntry("e2", AT.replace(minute=5), "invoice.paid", "invoice", "i1"))
    client = app.test_client()
    page = client.get("/v1/contact-timeline/c1?limit=1", headers={"X-Account-Id": "acct-1"}).get_json()
    assert [item["id"] for item in page["items"]] == ["e2"] and page["next_cursor"]
    rest = client.get(f"/v1/contact-timeline/c1?cursor={page['next_cursor']}",
                      headers={"X-Account-Id": "acct-1"}).get_json()
    assert rest == {"items": [{"id": "e1", "at": "2026-03-01T12:00:00.123000+00:00", "kind": "invoice.issued",
                               "subject": {"type": "invoice", "id": "i1"}, "summary": {"number": "F-1"}}],
                    "next_cursor": None}
    other = client.get("/v1/contact-timeline/c1", headers={"X-Account-Id": "acct-2"}).get_json()
    assert other == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=101", "limit"), ("cursor=nope", "cursor"),
                                          ("sort=at", "sort")])
def test_a_bad_query_is_a_422_naming_the_field(app, query, field):
    response = app.test_client().get(f"/v1/contact-timeline/c1?{query}", headers={"X-Account-Id": "acct-1"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_the_page_is_for_the_gateway_only_and_not_published(app):
    assert build_spec(app, "timeline-api-test", "1")["paths"] == {}
