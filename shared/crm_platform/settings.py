"""Settings read from environment variables and validated once, at start-up."""
from __future__ import annotations

import base64
import binascii
import os
from typing import Mapping, TypeVar

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from crm_platform.errors import ConfigurationError
from crm_platform.liveness import DEFAULT_STUCK_AFTER_S

T = TypeVar("T")


class Base64Key(fields.String):
    """A base64-encoded 32-byte key (e.g. the master key of crypto-shredding)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("must be base64") from None
        if len(raw) != 32:
            raise ValidationError("must decode to 32 bytes (generate one with: openssl rand -base64 32)")
        return raw


class MetricsSettings(Schema):
    """Where a process serves its Prometheus metrics; every service's settings include them, and its create_app
    and worker hand them to the kernel (web.create_service_app, worker_runtime.run_loops)."""

    class Meta:
        unknown = EXCLUDE

    # An API serves /metrics only to `Authorization: Bearer <METRICS_TOKEN>`; unset, it is off (404).
    METRICS_TOKEN = fields.String(load_default=None, validate=validate.Length(min=16))
    # A worker serves its metrics on this port (0: not at all, the default; `make run` gives each its own).
    METRICS_PORT = fields.Integer(load_default=0, validate=validate.Range(min=0, max=65535))
    # The address it listens on: every interface in a pod, 127.0.0.1 for `make run` (scripts/dev_env.py).
    METRICS_ADDR = fields.String(load_default="0.0.0.0", validate=validate.Regexp(r"^[0-9A-Fa-f.:]{2,45}$"))


class PlatformSettings(MetricsSettings):
    """Variables every service reads; services subclass it to add their own."""

    MONGO_URI = fields.String(required=True, validate=validate.Regexp(r"^mongodb(\+srv)?://"))
    KAFKA_BOOTSTRAP_SERVERS = fields.String(required=True, validate=validate.Length(min=3))
    KAFKA_TOPIC_NAMESPACE = fields.String(load_default="", validate=validate.Regexp(r"^[A-Za-z0-9._-]*$"))
    KAFKA_TOPIC_PARTITIONS = fields.Integer(load_default=3, validate=validate.Range(min=1, max=256))
    INTERNAL_TOKEN = fields.String(required=True, validate=validate.Length(min=16))
    READ_YOUR_WRITES_SECONDS = fields.Float(load_default=3.0, validate=validate.Range(min=0, max=30))
    LOG_LEVEL = fields.String(load_default="INFO", validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]))
    # No database call may wait forever: a server that cannot be found, reached or stops answering is an outage.
    MONGO_SERVER_SELECTION_TIMEOUT_MS = fields.Integer(load_default=5_000, validate=validate.Range(min=100, max=120_000))
    MONGO_CONNECT_TIMEOUT_MS = fields.Integer(load_default=5_000, validate=validate.Range(min=100, max=120_000))
    # Above the slowest statement measured (25-30 s searches at 100,000 contacts on FerretDB: docs/figures.md).
    MONGO_SOCKET_TIMEOUT_MS = fields.Integer(load_default=60_000, validate=validate.Range(min=1_000, max=600_000))
    # A worker loop without progress this long is stuck, and the worker's heartbeat stops (worker_runtime.py).
    WORKER_STUCK_AFTER_S = fields.Float(load_default=DEFAULT_STUCK_AFTER_S, validate=validate.Range(min=5, max=3600))

    @validates_schema
    def _a_loop_may_wait_for_one_statement(self, data: dict, **kwargs) -> None:
        stuck_after_s = data.get("WORKER_STUCK_AFTER_S", DEFAULT_STUCK_AFTER_S)
        if stuck_after_s * 1000 <= data.get("MONGO_SOCKET_TIMEOUT_MS", 60_000):
            raise ValidationError("must be above MONGO_SOCKET_TIMEOUT_MS: one statement may take that long",
                                  "WORKER_STUCK_AFTER_S")


class MailSettings(Schema):
    """The SMTP server the mail dispatcher sends through (crm_platform.mail); the defaults are `make run`'s local
    sink (devinfra), which keeps every mail as a file under var/mail/ and sends none on."""

    class Meta:
        unknown = EXCLUDE

    SMTP_HOST = fields.String(load_default="127.0.0.1", validate=validate.Regexp(r"^[A-Za-z0-9.:-]{1,253}$"))
    SMTP_PORT = fields.Integer(load_default=22525, validate=validate.Range(min=1, max=65535))
    # none: plain (a local sink or relay only); starttls: upgrade on the submission port (587); ssl: implicit (465)
    SMTP_TLS = fields.String(load_default="none", validate=validate.OneOf(["none", "starttls", "ssl"]))
    SMTP_USERNAME = fields.String(load_default=None, validate=validate.Length(min=1, max=256))
    SMTP_PASSWORD = fields.String(load_default=None, validate=validate.Length(min=1, max=1024))
    MAIL_FROM = fields.String(load_default="CRM <no-reply@crm.localhost>",
                              validate=validate.Regexp(r"^[^\r\n\x00]*[^\s@<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}>?$",
                                                       error="an address such as CRM <no-reply@example.com>"))

    @validates_schema
    def _a_login_is_sent_encrypted(self, data: dict, **kwargs) -> None:
        if data.get("SMTP_USERNAME") and data.get("SMTP_TLS", "none") == "none":
            raise ValidationError(
                "must be starttls or ssl when SMTP_USERNAME is set: a password is not sent in clear", "SMTP_TLS")


class PersonalDataSettings(PlatformSettings, MailSettings):
    """Platform settings plus the key vault of crypto-shredding, for services that hold personal data, and the
    SMTP server of their mail (the services that mail a person hold that person's data)."""

    MASTER_KEY = Base64Key(required=True)
    KEYVAULT_DB = fields.String(load_default="crm_keyvault", validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,60}$"))
    # Where services leave their parts of a person's export for the privacy service (privacy_exchange.py)
    PRIVACY_EXCHANGE_DB = fields.String(load_default="crm_privacy_exchange",
                                        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,60}$"))


def load_settings(schema: Schema, environ: Mapping[str, str] | None = None) -> dict:
    """Validate the environment against `schema`; ConfigurationError names every bad variable."""
    source = dict(os.environ if environ is None else environ)
    names = set(schema.fields)
    try:
        return schema.load({k: v for k, v in source.items() if k in names})
    except ValidationError as exc:
        problems = "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in sorted(exc.messages.items()))
        raise ConfigurationError(f"invalid configuration: {problems}") from None


def load_or_exit(loader, service: str) -> dict:
    """Settings from `loader()`, or exit with one line naming every bad variable (for process start-up)."""
    try:
        return loader()
    except ConfigurationError as exc:
        raise SystemExit(f"{service}: {exc}") from None
