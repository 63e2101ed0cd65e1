"""A method a path of the OpenAPI document does not declare is a 405 whose Allow lists the methods it does declare,
on every service's real app (schemathesis' unsupported-method check, ST205, runs this against the whole system).

A literal path beside an id route (`/v1/imports/template.csv` beside `/v1/imports/{import_id}`) is where it broke:
the id route took the other methods, so a DELETE of the template was sent to the import route, and a 405 listed the
id route's methods."""
from __future__ import annotations

import re

import pytest

from crm_platform import registry
from crm_platform.openapi import openapi_path
from crm_platform.testing.service_fixtures import INTERNAL_TOKEN

from gateway.testing.merged_document import service_app

METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")
ALWAYS_ALLOWED = {"HEAD", "OPTIONS"}
# Literal paths whose last word is also a key users may give: a label named "Order" has the key `order`, and
# GET /v1/labels/order reads it, so these words stay open to the key routes' methods.
KEYS_TOO = {("contacts", "/v1/labels/order"), ("contacts", "/v1/labels/find-or-create"),
            ("contacts", "/v1/options/{kind}/order")}


@pytest.fixture(scope="module")
def apps(infra, tmp_path_factory):
    suffix = tmp_path_factory.mktemp("suffix").name.replace("_", "").lower()[:10]
    return [service_app(service, infra, suffix, f"test-{suffix}.") for service in registry.load().upstreams]


def declared_methods(app) -> dict[str, set[str]]:
    """Each OpenAPI path of the app's rules with the methods its rules declare."""
    paths: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            paths.setdefault(openapi_path(rule.rule), set()).update(rule.methods - ALWAYS_ALLOWED)
    return paths


def test_an_undeclared_method_is_a_405_allowing_only_the_declared_ones(apps):
    wrong = []
    for app in apps:
        client = app.test_client()
        for path, declared in declared_methods(app).items():
            if (app.name, path) in KEYS_TOO:
                continue
            concrete = re.sub(r"\{[^}]+\}", "x1", path)
            for method in sorted(set(METHODS) - declared):
                answer = client.open(concrete, method=method, headers={"X-Internal-Token": INTERNAL_TOKEN, "X-Account-Id": "acct1"})
                allowed = {m.strip() for m in answer.headers.get("Allow", "").split(",") if m.strip()}
                if answer.status_code != 405 or allowed - ALWAYS_ALLOWED != declared:
                    wrong.append((app.name, method, path, answer.status_code, sorted(allowed)))
    assert wrong == [], "\n".join(map(str, wrong))
