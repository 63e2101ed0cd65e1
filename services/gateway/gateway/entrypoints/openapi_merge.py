"""The public OpenAPI document: the services' own documents (built from their marshmallow
schemas) merged into one, with the gateway's authentication added."""
from __future__ import annotations

import logging
import time

from gateway.bootstrap import Container

log = logging.getLogger(__name__)
_CACHE: dict = {"at": 0.0, "spec": None}
CACHE_SECONDS = 30.0


def merged_spec(container: Container) -> dict:
    """The merged document, cached briefly; a service that does not answer is listed as unavailable."""
    if _CACHE["spec"] is not None and time.monotonic() - _CACHE["at"] < CACHE_SECONDS:
        return _CACHE["spec"]
    spec: dict = {
        "openapi": "3.0.3",
        "info": {
            "title": "CRM API",
            "version": "1",
            "description": "Every request needs `Authorization: Bearer <API key>`. Errors are "
            "`application/problem+json`. Field names are snake_case throughout.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}, "schemas": {}},
    }
    unavailable = []
    for name, base in container.upstreams.items():
        try:
            response = container.upstream_client.call(name, "GET", f"{base}/openapi.json", {})
            response.raise_for_status()
            part = response.json()
        except Exception:  # one service down must not take the whole document with it
            log.warning("could not fetch the OpenAPI document of a service", extra={"upstream": name})
            unavailable.append(name)
            continue
        spec["paths"].update(part.get("paths", {}))
        spec["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    if unavailable:
        spec["info"]["x-unavailable-services"] = unavailable
    else:
        _CACHE.update(at=time.monotonic(), spec=spec)
    return spec
