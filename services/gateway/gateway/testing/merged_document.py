"""The public OpenAPI document as the gateway merges it, built in process from the real apps of every service
(no service listens: the gateway fetches each /openapi.json from the service app's test client)."""
from __future__ import annotations

import base64
import os
from importlib import import_module
from types import SimpleNamespace
from typing import Callable

from flask import Blueprint, Flask

from crm_platform import registry
from crm_platform.testing.service_fixtures import INTERNAL_TOKEN, service_settings

from gateway.entrypoints import openapi_merge
from gateway.testing.scripted_upstreams import gateway_app


class _ServiceAnswer:
    """What the gateway's upstream client returns, over a Flask test response."""

    def __init__(self, response) -> None:
        self._response = response

    def raise_for_status(self) -> None:
        if self._response.status_code != 200:
            raise RuntimeError(f"/openapi.json answered {self._response.status_code}")

    def json(self) -> dict:
        return self._response.get_json()


class _ServiceApps:
    """An upstream client that calls the services' apps in process."""

    def __init__(self, apps: dict) -> None:
        self._apps = apps

    def call(self, name: str, method: str, url: str, headers: dict) -> _ServiceAnswer:
        path = "/" + url.split("://", 1)[-1].split("/", 1)[1]
        client = self._apps[name].test_client()
        return _ServiceAnswer(client.open(path, method=method, headers={"X-Internal-Token": INTERNAL_TOKEN, **headers}))


def service_app(service: registry.Service, infra, unique_suffix: str, topic_namespace: str):
    """The service's API app (its registry target) on this test's servers and databases."""
    config = import_module(f"{service.package}.config")
    module, factory = service.process("api").target.removesuffix("()").split(":")
    settings = service_settings(config, service.db_setting, infra, unique_suffix, topic_namespace,
                                PRIVACY_SIGNING_KEY=base64.b64encode(os.urandom(32)).decode())
    return getattr(import_module(module), factory)(settings)


def merged_document(infra, unique_suffix: str, topic_namespace: str) -> dict:
    """The document GET /openapi.json of a gateway in front of every service would answer (nothing cached)."""
    services = registry.load().upstreams
    apps = {s.name: service_app(s, infra, unique_suffix, topic_namespace) for s in services}
    gateway = gateway_app(infra, unique_suffix, "http://services.invalid")
    container = gateway.extensions["container"]
    openapi_merge._CACHE.update(at=0.0, spec=None)
    with gateway.app_context():
        document = openapi_merge.merged_spec(SimpleNamespace(upstreams=container.upstreams,
                                                             upstream_client=_ServiceApps(apps)))
    openapi_merge._CACHE.update(at=0.0, spec=None)
    assert "x-unavailable-services" not in document["info"], document["info"]
    return document


def own_routes_document(*routes: Blueprint | Callable[[Flask], None]) -> dict:
    """The merged document of a gateway with only these routes of its own (blueprints, or functions registering
    them on the app) and no service behind it; nothing cached before or after."""
    app = Flask("gateway-openapi-test")
    for part in routes:
        app.register_blueprint(part) if isinstance(part, Blueprint) else part(app)
    openapi_merge._CACHE.update(at=0.0, spec=None)
    with app.app_context():
        document = openapi_merge.merged_spec(SimpleNamespace(upstreams={}, upstream_client=None))
    openapi_merge._CACHE.update(at=0.0, spec=None)
    return document
