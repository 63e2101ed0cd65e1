"""Settings of the gateway, from the environment, validated at start-up."""
from __future__ import annotations

from marshmallow import fields, validate

from crm_platform import topics
from crm_platform.settings import PlatformSettings, load_settings

SERVICE_NAME = "gateway"
EVENTS_TOPIC = topics.ACCOUNTS_EVENTS
URL = validate.URL(require_tld=False, schemes={"http", "https"})


class GatewaySettings(PlatformSettings):
    GATEWAY_DB = fields.String(load_default="crm_gateway", validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,60}$"))
    CONTACTS_URL = fields.String(required=True, validate=URL)
    UPSTREAM_TIMEOUT_S = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=120))
    # Bodies are read in memory before they are forwarded: above every service's own upload limit, no more.
    MAX_REQUEST_BYTES = fields.Integer(load_default=16 * 2**20, validate=validate.Range(min=2**20, max=128 * 2**20))
    WORKER_HEARTBEAT_FILE = fields.String(load_default="/tmp/gateway-worker.heartbeat")


def load(environ=None) -> dict:
    return load_settings(GatewaySettings(), environ)


def services(settings: dict) -> dict[str, str]:
    """Service name -> base URL of the services behind the gateway."""
    return {"contacts": settings["CONTACTS_URL"].rstrip("/")}


# First path segment under /v1/ -> the service that owns that resource.
ROUTES = {"contacts": "contacts", "labels": "contacts", "custom-fields": "contacts", "saved-views": "contacts", "jobs": "contacts",
          "options": "contacts", "contact-settings": "contacts",
          "imports": "contacts", "exports": "contacts"}
