"""The merged OpenAPI document describes the contact's timeline: its operation, limit and cursor, each entry and
how each source answered."""
import pytest

from gateway.entrypoints import contact_timeline_api
from gateway.testing.merged_document import own_routes_document


@pytest.fixture
def spec():
    return own_routes_document(contact_timeline_api.blueprint)


def schema_of(spec, ref_holder: dict) -> dict:
    ref = ref_holder.get("$ref") or ref_holder.get("items", {}).get("$ref") or ref_holder["allOf"][0]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_timeline_is_documented_with_its_query_entries_and_sources(spec):
    read = spec["paths"]["/v1/contacts/{contact_id}/timeline"]["get"]
    assert read["operationId"] == "getContactTimeline" and read["tags"] == ["contacts"]
    query = {p["name"]: p for p in read["parameters"] if p.get("in") == "query"}
    assert set(query) == {"limit", "cursor"}
    assert (query["limit"]["schema"]["minimum"], query["limit"]["schema"]["maximum"]) == (1, 100)
    assert {"404", "422", "429", "503", "504"} <= set(read["responses"])
    # a source that failed is left out of the page: said where clients read, with what to do
    assert "read a page whose `sources` are not all `ok` again" in read["summary"]
    answer = schema_of(spec, read["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(answer["properties"]) == {"items", "next_cursor", "next", "sources"}
    entry = schema_of(spec, answer["properties"]["items"])
    assert set(entry["properties"]) == {"id", "at", "kind", "subject", "summary"}
    assert entry["properties"]["at"]["format"] == "date-time"
    sources = schema_of(spec, answer["properties"]["sources"])
    assert set(sources["properties"]) == {"contacts", "billing", "workflows"}
    assert sources["properties"]["billing"]["enum"] == ["ok", "timeout", "unavailable"]
