"""Every request example of the public OpenAPI document is one its service accepts: a client author copies it and
an API browser sends it as it is. Each write operation's example body goes to the real app that serves its path
(each service in process, the gateway for its own routes) on the real database."""
from __future__ import annotations

import re
import uuid

import pytest

from crm_platform import registry
from crm_platform.testing.service_fixtures import internal_headers

from gateway.testing.merged_document import merged_document, service_app
from gateway.testing.scripted_upstreams import gateway
from gateway.testing.webhook_targets import fake_dns

WRITES = ("post", "put", "patch")
PARAMETER = re.compile(r"\{(\w+)\}")
PATH_VALUES = {"kind": "functions"}  # path parameters that are not ids: one of the values the service knows
# What the example cannot know: an id it refers to that does not exist, the ids of what exists.
MISSING = re.compile(r"does not exist|^no API key|not a \w+ of this|no \w+ of this account has this id"
                     r"|^no such \w+ in this account|every \w+ of the \w+, each once|^missing: ")


@pytest.fixture
def databases_dropped(mongo_client, unique_suffix):
    yield
    for name in mongo_client.list_database_names():
        if name.startswith(f"test_{unique_suffix}"):
            mongo_client.drop_database(name)


def test_every_write_example_is_accepted_by_its_service(infra, unique_suffix, mongo_client, databases_dropped):
    namespace = f"test-{unique_suffix}."
    document = merged_document(infra, unique_suffix, namespace)
    services = {s.name: service_app(s, infra, unique_suffix, namespace).test_client()
                for s in registry.load().upstreams}
    served_by = {path: name for name, client in services.items()
                 for path in client.get("/openapi.json", headers=internal_headers()).get_json()["paths"]}
    gateway_client, auth, container = gateway(infra, unique_suffix, mongo_client, "http://services.invalid")
    container.webhook_resolver = fake_dns  # no DNS in tests: the example's host is taken for a public one
    created: dict[str, str] = {}  # the path of an item ("/v1/boards/{board_id}") -> the id a POST example created
    refused = []
    for method, path, example in writes_with_examples(document):
        url = PARAMETER.sub(lambda m: created.get(path[:m.end()]) or PATH_VALUES.get(m[1]) or str(uuid.uuid4()), path)
        client, headers = (services[served_by[path]], internal_headers()) if path in served_by else (gateway_client, auth)
        answer = client.open(url, method=method, json=example, headers=headers)
        body = answer.get_json(silent=True) or {}
        if method == "post" and answer.status_code == 201 and isinstance(body, dict):
            for item in document["paths"]:
                if re.fullmatch(re.escape(path) + r"/\{\w+\}", item):
                    created.setdefault(item, body.get("id") or body.get("key"))
        if not accepted(answer.status_code, body):
            refused.append(f"{method.upper()} {path}: {answer.status_code} {body.get('errors') or body.get('detail')}")
        elif answer.status_code >= 300:  # the example passed only if the service reads a body before the ids
            unknown_field = client.open(url, method=method, json={"no_such_field": 1}, headers=headers)
            if unknown_field.status_code != 422:
                refused.append(f"{method.upper()} {path}: unchecked, {answer.status_code} before reading the body")
    assert refused == [], "\n".join(refused)


def writes_with_examples(document: dict) -> list[tuple[str, str, object]]:
    """(method, path, example) of every write with a JSON example; creations of a collection first, so that the
    paths of their items get a resource that exists."""
    found = [(method, path, media["example"]) for path, item in document["paths"].items() for method in WRITES
             if "example" in (media := item.get(method, {}).get("requestBody", {}).get("content", {})
                              .get("application/json", {}))]
    return sorted(found, key=lambda write: (PARAMETER.search(write[1]) is not None, write[1].count("/")))


def accepted(status: int, problem: dict) -> bool:
    """A 2xx; or a refusal about the state of things, not about the example: an id it refers to that does not
    exist (only fields of ids named), or a revision it cannot know (a fresh resource's)."""
    if 200 <= status < 300:
        return True
    if status == 409 and problem.get("type") == "/problems/stale-revision":
        return True
    errors = problem.get("errors", {})
    if status not in (404, 409, 422) or not all(field.endswith(("_id", "_ids", "keys")) for field in errors):
        return False
    reasons = messages_of(errors) or [problem.get("detail", "")]
    return all(MISSING.search(reason) for reason in reasons)


def messages_of(errors) -> list[str]:
    """The messages of marshmallow's errors, nested ones (of a list's entries, of a nested object) too."""
    if isinstance(errors, str):
        return [errors]
    return [m for value in (errors.values() if isinstance(errors, dict) else errors) for m in messages_of(value)]
