"""The merged OpenAPI document describes the aggregated contact read: its include and as_of, each section's status
enum."""
from types import SimpleNamespace

import pytest
from flask import Flask

from gateway.domain.contact_sections import SECTION_NAMES
from gateway.entrypoints import contact_360_api, openapi_merge


@pytest.fixture
def spec(monkeypatch):
    monkeypatch.setattr(openapi_merge, "_CACHE", {"at": 0.0, "spec": None})
    app = Flask("gateway-openapi-test")
    app.register_blueprint(contact_360_api.blueprint)
    with app.app_context():
        return openapi_merge.merged_spec(SimpleNamespace(upstreams={}, upstream_client=None))


def test_the_360_read_is_documented_with_each_sections_status(spec):
    read = spec["paths"]["/v1/contacts/{contact_id}/360"]["get"]
    assert read["operationId"] == "getContact360" and read["tags"] == ["contacts"]
    query = {p["name"]: p for p in read["parameters"] if p.get("in") == "query"}
    assert list(query) == ["include", "as_of"]
    assert query["as_of"]["schema"]["format"] == "date-time" and not query["as_of"].get("required")
    assert {"404", "422", "429", "503", "504"} <= set(read["responses"])
    schemas = spec["components"]["schemas"]
    answer = read["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    sections = schemas[answer]["properties"]["sections"]
    sections_schema = schemas[(sections.get("$ref") or sections["allOf"][0]["$ref"]).rsplit("/", 1)[1]]
    assert set(sections_schema["properties"]) == set(SECTION_NAMES)
    assert schemas["ContactSection"]["properties"]["status"]["enum"] == ["ok", "timeout", "unavailable",
                                                                         "as_of_unsupported"]
