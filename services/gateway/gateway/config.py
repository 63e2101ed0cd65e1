"""Settings of the gateway, from the environment, validated at start-up."""
from __future__ import annotations

from datetime import timedelta

from marshmallow import ValidationError, fields, validate, validates_schema

from crm_platform import registry
from crm_platform.contracts.accounts import ACCOUNTS_EVENTS
from crm_platform.contracts.catalog import TOPICS
from crm_platform.settings import PlatformSettings, load_settings

SERVICE_NAME = "gateway"
EVENTS_TOPIC = ACCOUNTS_EVENTS.name
URL = validate.URL(require_tld=False, schemes={"http", "https"})
REGISTRY = registry.load()

OWN_SETTINGS = {
    "GATEWAY_DB": fields.String(load_default="crm_gateway", validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,60}$")),
    "UPSTREAM_TIMEOUT_S": fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=120)),
    # Bodies are read in memory before they are forwarded: above every service's own upload limit, no more.
    "MAX_REQUEST_BYTES": fields.Integer(load_default=16 * 2**20, validate=validate.Range(min=2**20, max=128 * 2**20)),
    # The aggregated contact read (GET /v1/contacts/{id}/360): how long it waits for each section's service
    # (never longer than UPSTREAM_TIMEOUT_S, the longest any call waits).
    "CONTACT_SECTION_DEADLINE_S": fields.Float(load_default=1.5, validate=validate.Range(min=0.05, max=30)),
    # ... and for the contact itself, from the start of the read: without it there is nothing to show, so it waits
    # longer than a section (the contacts service may wait READ_YOUR_WRITES_SECONDS, 3 s, for its read model), but
    # never unbounded: a contacts service slower than this (or a pool busy with other reads) answers 504.
    "CONTACT_READ_DEADLINE_S": fields.Float(load_default=5.0, validate=validate.Range(min=0.05, max=60)),
    # Threads that read the sections, shared by the process's requests (a section waiting for one past its
    # deadline is a `timeout`)
    "CONTACT_SECTION_THREADS": fields.Integer(load_default=32, validate=validate.Range(min=2, max=256)),
    "WORKER_HEARTBEAT_FILE": fields.String(load_default="/tmp/gateway-worker.heartbeat"),
    # Rate limits (docs/api.md, "Rate limits"); the defaults suit one small business: see docs/configuration.md.
    "RATE_LIMIT_KEY_PER_SECOND": fields.Integer(load_default=20, validate=validate.Range(min=1, max=10_000)),
    "RATE_LIMIT_KEY_PER_MINUTE": fields.Integer(load_default=600, validate=validate.Range(min=1, max=1_000_000)),
    "RATE_LIMIT_ACCOUNT_PER_MINUTE": fields.Integer(load_default=1200, validate=validate.Range(min=1, max=1_000_000)),
    "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE": fields.Integer(load_default=10, validate=validate.Range(min=1, max=100_000)),
    # Counters that do not answer this fast are left for 5 s: each process counts alone meanwhile.
    "RATE_LIMIT_TIMEOUT_MS": fields.Integer(load_default=1000, validate=validate.Range(min=50, max=10_000)),
    # How many proxies in front of the gateway append to X-Forwarded-For; 0: the client is the socket's peer.
    "TRUSTED_PROXY_COUNT": fields.Integer(load_default=0, validate=validate.Range(min=0, max=5)),
    # /metrics (to METRICS_TOKEN) on the gateway's listener, which is public: off unless Prometheus scrapes it.
    "GATEWAY_SERVES_METRICS": fields.Boolean(load_default=False),
    # Webhooks (docs/webhooks.md). Private, loopback and link-local targets only where an operator allows them:
    # dev and test machines, whose receivers are local; never in production (SSRF).
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": fields.Boolean(load_default=False),
    "WEBHOOK_TIMEOUT_S": fields.Float(load_default=10.0, validate=validate.Range(min=1, max=12)),
    "WEBHOOK_CONCURRENCY": fields.Integer(load_default=8, validate=validate.Range(min=1, max=64)),
    "WEBHOOK_DISABLE_AFTER_DAYS": fields.Integer(load_default=5, validate=validate.Range(min=1, max=60)),
    "WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES": fields.Integer(load_default=10, validate=validate.Range(min=1, max=10_000)),
    # Seconds between a delivery's attempts (the last repeats), within 3 days of the first; tests shorten them.
    "WEBHOOK_RETRY_DELAYS_S": fields.String(load_default="5,300,1800,7200,18000,36000", validate=validate.Regexp(
        r"^\d+(\.\d+)?(,\d+(\.\d+)?){0,19}$", error="seconds, comma-separated (at most 20): 5,300,1800")),
    # The delivery log is kept this long (a delivery still pending stays; retries end after 3 days).
    "WEBHOOK_LOG_RETENTION_DAYS": fields.Integer(load_default=30, validate=validate.Range(min=4, max=365)),
}


@validates_schema
def _quotas_nest(self, data: dict, **kwargs) -> None:
    """A burst above the minute's quota, or a key's quota above its account's, could never be used."""
    def value(name: str) -> int:  # a partial validation (tests/test_deploy_files.py) leaves out the defaults
        return data[name] if name in data else self.fields[name].load_default

    if value("RATE_LIMIT_KEY_PER_SECOND") > value("RATE_LIMIT_KEY_PER_MINUTE"):
        raise ValidationError("must be at most RATE_LIMIT_KEY_PER_MINUTE", "RATE_LIMIT_KEY_PER_SECOND")
    if value("RATE_LIMIT_KEY_PER_MINUTE") > value("RATE_LIMIT_ACCOUNT_PER_MINUTE"):
        raise ValidationError("must be at most RATE_LIMIT_ACCOUNT_PER_MINUTE", "RATE_LIMIT_KEY_PER_MINUTE")


# One required <NAME>_URL per service behind the gateway (CONTACTS_URL...), named by the registry,
# so a new service needs no edit here and a missing URL stops start-up like any other setting.
UPSTREAM_URLS = {service.url_variable: fields.String(required=True, validate=URL) for service in REGISTRY.upstreams}

GatewaySettings = type("GatewaySettings", (PlatformSettings,), {
    "__module__": __name__, "__doc__": "The gateway's settings: its own and its upstreams' URLs.",
    **OWN_SETTINGS, **UPSTREAM_URLS, "_quotas_nest": _quotas_nest,
})


def load(environ=None) -> dict:
    return load_settings(GatewaySettings(), environ)


def webhook_retry_delays(settings: dict) -> tuple[timedelta, ...]:
    return tuple(timedelta(seconds=float(part)) for part in settings["WEBHOOK_RETRY_DELAYS_S"].split(","))


def services(settings: dict) -> dict[str, str]:
    """Service name -> base URL of the services behind the gateway."""
    return {service.name: settings[service.url_variable].rstrip("/") for service in REGISTRY.upstreams}


# First path segment under /v1/ -> the service that owns that resource.
ROUTES = REGISTRY.routes
# /v1/jobs/{id}... goes to these services in turn until one knows the job (see entrypoints/api.py).
JOB_SERVICES = REGISTRY.job_services
JOBS_PREFIX = registry.JOBS_PREFIX
# A contact's timeline merges the entries of these services (see entrypoints/contact_timeline_api.py).
TIMELINE_SERVICES = REGISTRY.timeline_services
# The published topics webhooks are made from: every topic in the contracts but the gateway's own.
WEBHOOK_TOPICS = tuple(topic.name for topic in TOPICS if topic.producer != SERVICE_NAME)
