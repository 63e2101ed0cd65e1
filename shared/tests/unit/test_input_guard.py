"""Text no service can store is refused at the edge: 422 naming the field (404 for a path), never a 5xx."""
import json

import pytest

from crm_platform.input_guard import json_problems, text_problem
from crm_platform.web import create_service_app, json_body


@pytest.fixture
def client():
    app = create_service_app("guard-test", required_checks={}, log_level="WARNING")

    @app.post("/v1/things")
    def create_thing():
        return json_body(), 201

    @app.get("/v1/things/<thing_id>")
    def get_thing(thing_id: str):
        return {"id": thing_id}

    return app.test_client()


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "bell\x07", "esc\x1b[31m", "\udc00alone"])
def test_text_that_cannot_be_stored_is_named(value):
    assert text_problem(value) is not None
    assert json_problems({"items": [{"name": value}]}) == {"items.0.name": [text_problem(value)]}


def test_ordinary_text_passes_with_tabs_and_new_lines():
    assert json_problems({"text": "Ligne 1\n\tLigne 2\r\n\x0bsaut manuel\x0c", "n": 10**30, "emoji": "🙂 é",
                          "del": "\x7f", "next_line": "\x85"}) == {}


@pytest.mark.parametrize("body, field", [
    ({"first_name": "a\u0000b"}, "first_name"),
    ({"name": "\ud800"}, "name"),
    ({"\ud800": "x"}, "_schema"),
    ({"query": [{"name": "q", "value": "a\u0001"}]}, "query.0.value"),
])
def test_a_body_with_unstorable_text_is_a_422_naming_the_field(client, body, field):
    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape a hostile client sends
    answer = client.post("/v1/things", data=raw, content_type="application/json")
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert field in answer.get_json()["errors"]


def test_json_nested_ten_thousand_deep_is_a_422(client):
    answer = client.post("/v1/things", data="[" * 10_000 + "]" * 10_000, content_type="application/json")
    assert answer.status_code == 422
    answer = client.post("/v1/things", data='{"a":' * 10_000 + "1" + "}" * 10_000, content_type="application/json")
    assert answer.status_code == 422 and "nested" in json.dumps(answer.get_json())


def test_a_path_or_query_with_a_nul_is_a_404_or_a_422(client):
    assert client.get("/v1/things/%00").status_code == 404
    answer = client.get("/v1/things/x?label=a%00b")
    assert answer.status_code == 422 and "label" in answer.get_json()["errors"]
    assert client.get("/v1/things/%ED%A0%80").status_code < 500  # invalid UTF-8 arrives as U+FFFD: storable
    assert client.get("/v1/things/caf%C3%A9?q=%C3%A9l%C3%A8ve").status_code == 200


def test_a_client_request_id_is_kept_only_when_it_is_a_plain_token(client):
    kept = client.get("/v1/things/x", headers={"X-Request-Id": "req-42.a:b", "X-Correlation-Id": "corr_1"})
    assert kept.headers["X-Request-Id"] == "req-42.a:b" and kept.headers["X-Correlation-Id"] == "corr_1"
    for hostile in ("louise@example.fr is here", "x" * 129, "a\tb"):  # personal data, floods, log injection
        replaced = client.get("/v1/things/x", headers={"X-Request-Id": hostile})
        assert replaced.headers["X-Request-Id"] != hostile and len(replaced.headers["X-Request-Id"]) <= 64


def test_a_method_the_resource_does_not_take_is_a_405_saying_which_it_takes(client):
    answer = client.open("/v1/things/x", method="TRACE")
    assert answer.status_code == 405 and answer.content_type == "application/problem+json"
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}


def test_a_method_the_route_lacks_is_a_405_even_with_a_query_that_cannot_be_stored(client):
    answer = client.patch("/v1/things/x?label=a%00b", data="{", content_type="application/json")
    assert answer.status_code == 405
    assert client.get("/v1/nowhere?label=a%00b").status_code == 404
