"""The merged OpenAPI document describes the aggregated contact read: its include and as_of, each section's status
enum."""
import pytest

from gateway.domain.contact_sections import SECTION_NAMES
from gateway.entrypoints import contact_360_api
from gateway.testing.merged_document import own_routes_document


@pytest.fixture
def spec():
    return own_routes_document(contact_360_api.blueprint)


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
