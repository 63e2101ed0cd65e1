"""The public OpenAPI document (the gateway's merge of every service's) is one SDK generators take as it is
(issue 14, item 6): it validates, names every operation, openapi-python-client generates a client from it
without a warning, and openapi-typescript types a TypeScript client tsc accepts."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from openapi_spec_validator import validate

from gateway.testing.merged_document import merged_document

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
NODE_TOOLS = Path(__file__).resolve().parent.parent / "tools" / "node_modules" / ".bin"  # `make venv` installs them
TYPESCRIPT_CLIENT = Path(__file__).resolve().parent / "typescript" / "contacts_client.ts"
CAMEL_CASE = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@pytest.fixture(scope="module")
def document(infra, tmp_path_factory):
    suffix = tmp_path_factory.mktemp("suffix").name.replace("_", "").lower()[:10]
    return merged_document(infra, suffix, f"test-{suffix}.")


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, op) for path, item in document["paths"].items()
            for method, op in item.items() if method in METHODS]


def test_the_merged_document_is_valid_openapi(document):
    validate(document)


def test_every_operation_has_a_unique_camel_case_operation_id(document):
    ids = [op.get("operationId") for _, _, op in operations(document)]
    unnamed = [f"{method} {path}" for method, path, op in operations(document) if not op.get("operationId")]
    assert not unnamed
    assert [i for i in ids if not CAMEL_CASE.match(i)] == []
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_path_parameters_come_in_the_order_of_the_path(document):
    """Generated functions take them in this order: it must not change from one build to the next."""
    for method, path, op in operations(document):
        in_path = [p["name"] for p in op.get("parameters", []) if p.get("in") == "path"]
        assert in_path == re.findall(r"\{(\w+)\}", path), (method, path)


def test_every_operation_is_tagged_with_a_declared_tag(document):
    declared = {tag["name"] for tag in document.get("tags", [])}
    untagged = [f"{method} {path}" for method, path, op in operations(document) if not set(op.get("tags", [])) & declared]
    assert untagged == []


def test_timestamps_of_answers_are_typed_date_times(document):
    request_side = set(re.findall(r'"#/components/schemas/(\w+)"', json.dumps(
        [[op.get("parameters"), op.get("requestBody")] for _, _, op in operations(document)])))
    untyped = [f"{name}.{field}" for name, schema in document["components"]["schemas"].items()
               if name not in request_side for node in schema_nodes(schema)
               for field, prop in node.get("properties", {}).items()
               if field.endswith("_at") and prop.get("type") == "string" and prop.get("format") != "date-time"]
    assert untyped == []
    assert document["components"]["schemas"]["Contact"]["properties"]["created_at"]["format"] == "date-time"


def test_answers_declare_their_headers_and_files_their_media_types(document):
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            assert "X-Request-Id" in response.get("headers", {}), (method, path, status)
            if status == "201":
                assert "Location" in response["headers"], (method, path)
            assert "*/*" not in response.get("content", {}), (method, path, status)
            if status.startswith("2") and status != "204":
                assert response.get("content"), (method, path, status)
    picture = document["paths"]["/v1/contacts/{contact_id}/picture"]["get"]["responses"]["200"]
    assert list(picture["content"]) == ["application/octet-stream", "image/jpeg", "image/png", "image/webp", "image/gif"]
    assert "ETag" in picture["headers"]
    for method, path in (("get", "/v1/contacts/{contact_id}"), ("get", "/v1/invoices/{invoice_id}"),
                         ("post", "/v1/boards")):
        responses = document["paths"][path][method]["responses"]
        assert "ETag" in responses[min(s for s in responses if s.startswith("2"))]["headers"], (method, path)


def test_problem_members_are_typed(document):
    members = document["components"]["schemas"]["Problem"]["properties"]
    assert members["current_revision"]["type"] == "integer"
    assert members["existing_contact_id"]["type"] == "string"


def test_no_schema_says_what_openapi_3_0_ignores(document):
    nodes = list(schema_nodes(document))
    one_branch = [n for n in nodes if len(n.get("allOf", ())) == 1 or len(n.get("anyOf", ())) == 1]
    assert [n for n in nodes if n.get("nullable") and "type" not in n and n not in one_branch] == []
    assert [n for n in nodes if None in n.get("enum", ())] == []  # openapi-python-client: three classes of one enum
    assert [n for n in nodes if {"type": "object", "nullable": True} in n.get("anyOf", ())] == []
    assert document["components"]["schemas"]["Import"]["properties"]["job"] == {
        "allOf": [{"$ref": "#/components/schemas/Job"}], "nullable": True}
    assert [n for n in nodes if n.get("type") == "object" and {"minLength", "maxLength"} & n.keys()] == []
    nullable_query = [f"{method} {path} {p['name']}" for method, path, op in operations(document)
                      for p in op.get("parameters", []) if p.get("in") == "query"
                      and (p["schema"].get("nullable") or None in p["schema"].get("enum", ()))]
    assert nullable_query == []


def test_every_json_body_has_an_example_its_schema_accepts(document):
    """Request bodies and 2xx answers: generators and API browsers show the example, so it must be one the
    schema accepts, and it must not be anyone's personal data (reserved domains only)."""
    assert document["openapi"].startswith("3.0."), document["openapi"]  # the dialect of the OAS30 validators
    missing, invalid, bodies = [], [], 0
    for method, path, op in operations(document):
        sides = [("request", OAS30WriteValidator, op.get("requestBody", {}).get("content", {}))]
        sides += [(status, OAS30ReadValidator, response.get("content", {}))
                  for status, response in op["responses"].items() if status.startswith("2")]
        for side, validator, content in sides:
            media = content.get("application/json")
            if media is None:
                continue
            bodies += 1
            if "example" not in media and "example" not in media["schema"]:
                missing.append(f"{method} {path} {side}")
                continue
            example = media.get("example", media["schema"].get("example"))
            errors = validator({**media["schema"], "components": document["components"]}).iter_errors(example)
            invalid += [f"{method} {path} {side}: {list(e.absolute_path)} {e.message[:200]}" for e in errors]
            domains = re.findall(r"@([A-Za-z0-9.-]+)", json.dumps(example))
            assert {d for d in domains if not re.search(r"(^|\.)example\.(com|org|net)$", d)} == set(), (method, path)
    assert bodies > 100
    assert missing == []
    assert invalid == []


def test_every_operation_declares_the_statuses_it_can_answer(document):
    """The answers the shared app shell and the gateway give to any request, declared where they apply: a typed
    client that meets an undeclared status raises instead of handing over the problem."""
    missing = []
    for method, path, op in operations(document):
        expected = {"401", "403", "414", "422", "429", "500", "503"}  # key, scope, URL, input, limits, outages
        if "{" in path:
            expected.add("404")  # an id that is not (or not in the caller's account)
        if "requestBody" in op:
            expected |= {"413", "415"}  # the body's size and media type
        if not path.startswith(("/v1/api-keys", "/v1/webhook-endpoints")):  # the gateway's own, no service behind
            expected |= {"502", "504"}  # the service failed, or did not answer in time
        if method in ("post", "patch", "delete"):
            expected.add("409")  # an Idempotency-Key in flight
        missing += [f"{method} {path} {status}" for status in sorted(expected - set(op["responses"]))]
        problems = [s for s, response in op["responses"].items() if s[0] in "45" and
                    response.get("content", {}).get("application/problem+json", {}).get("schema") !=
                    {"$ref": "#/components/schemas/Problem"}]
        assert problems == [], (method, path)
    assert missing == [], "\n".join(missing[:40])


# A description that is a list of values (`file or profile_picture`, `queued, sent (every mail went) or failed`,
# `why it failed: rejected (...), undeliverable, ...`): the whole description, or what follows its first colon.
PROSE_VALUE = r"`?([a-z][a-z0-9_]*)`?(?: \([^)]*\))?"
PROSE_VALUE_LIST = re.compile(rf"(?:^|^[^:]*: )((?:{PROSE_VALUE}, )*{PROSE_VALUE},? or {PROSE_VALUE}|"
                              rf"{PROSE_VALUE}(?:, {PROSE_VALUE}){{2,}})(?:$|;|\.(?!\.)| \()")


def prose_values(description: str) -> list[str]:
    found = PROSE_VALUE_LIST.search(description)
    listed = re.sub(r" \([^)]*\)", "", found.group(1)) if found else ""
    return [value.strip("`") for value in re.split(r",? or |, ", listed) if value]


def test_prose_value_lists_detects_what_it_should():
    assert prose_values("file or profile_picture") == ["file", "profile_picture"]
    assert prose_values("why it failed: rejected (the address bounced), undeliverable, subject_erased") == [
        "rejected", "undeliverable", "subject_erased"]
    assert prose_values("`ok`, `timeout` or `unavailable`") == ["ok", "timeout", "unavailable"]
    assert prose_values("409 duplicate-contact: that email or phone, normalised") == []
    assert prose_values("override the detected encoding, e.g. utf-8, cp1252, utf-16") == []


def test_value_lists_written_in_prose_are_enums(document):
    """A string whose description lists its values states them as an enum (or, for a comma-separated list of
    them, as the alternatives of its pattern): generators make a type of an enum, never of prose."""
    described = [(name + "." + field, prop) for name, schema in document["components"]["schemas"].items()
                 for node in schema_nodes(schema) for field, prop in node.get("properties", {}).items()]
    described += [(f"{method} {path} {p['name']}", {**p["schema"], "description": p.get("description", "")})
                  for method, path, op in operations(document) for p in op.get("parameters", []) if "schema" in p]
    offenders = []
    for where, prop in described:
        values = prose_values(prop.get("description", ""))
        stated = [*prop.get("enum", ()), *(v for b in prop.get("anyOf", ()) for v in b.get("enum", ())),
                  *prop.get("items", {}).get("enum", ()), *re.findall(r"\w+", prop.get("pattern", ""))]
        if values and prop.get("type", "string") in ("string", "array") and not set(values) <= set(stated):
            offenders.append(f"{where}: {sorted(set(values) - set(stated))}")
    assert offenders == [], "\n".join(offenders)


def schema_nodes(root):
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            yield node
            pending += node.values()
        elif isinstance(node, list):
            pending += node


def test_openapi_python_client_generates_a_client_without_a_warning(document, tmp_path):
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # its ruff pass
    run = subprocess.run([str(GENERATOR), "generate", "--path", str(source), "--meta", "none",
                          "--output-path", str(tmp_path / "client")],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert "warning" not in output.lower(), output[-12000:]
    assert (tmp_path / "client" / "api").is_dir(), output[-2000:]


def test_openapi_typescript_types_a_client_that_typechecks(document, tmp_path):
    """The issue's second generator. `--default-non-nullable false`: its default makes a property with a default
    required in every schema used by a request body too (Email, Phone), where the service fills it in."""
    assert (NODE_TOOLS / "openapi-typescript").exists(), "run `make node-tools` (make test does): it installs tools/ with npm ci"
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    run = subprocess.run([str(NODE_TOOLS / "openapi-typescript"), str(source), "-o", str(tmp_path / "schema.d.ts"),
                          "--default-non-nullable", "false"], capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert not re.search(r"warn|error", output, re.IGNORECASE), output[-6000:]
    shutil.copy(TYPESCRIPT_CLIENT, tmp_path / TYPESCRIPT_CLIENT.name)
    check = subprocess.run([str(NODE_TOOLS / "tsc"), "--noEmit", "--strict", "--target", "es2022", "--module", "esnext",
                            "--moduleResolution", "bundler", TYPESCRIPT_CLIENT.name],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert check.returncode == 0, (check.stdout + check.stderr)[-6000:]


def test_the_reason_of_a_send_or_message_lists_its_values_as_its_siblings_do(document):
    """A client generated from the document gets one enum of failure reasons, not a free string beside it."""
    schemas = document["components"]["schemas"]
    reason = {name: [branch.get("enum") for branch in schemas[name]["properties"]["reason"].get("anyOf", [{}])][0]
              for name in ("Send", "Delivery", "HistoryMessage", "MessageSummary")}  # nullable: one branch
    assert reason["Send"] == reason["Delivery"] and "undeliverable" in reason["Send"]
    assert reason["HistoryMessage"] == reason["MessageSummary"] and "attachment_deleted" in reason["HistoryMessage"]
