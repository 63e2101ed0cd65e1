"""Settings of the privacy service, from the environment, validated at start-up."""
from __future__ import annotations

import os

from marshmallow import fields, validate

from crm_platform import registry
from crm_platform.contracts.contacts import CONTACTS_EVENTS
from crm_platform.contracts.privacy import PRIVACY_EVENTS
from crm_platform.errors import ConfigurationError
from crm_platform.settings import Base64Key, PersonalDataSettings, load_settings

SERVICE_NAME = "privacy"
EVENTS_TOPIC = PRIVACY_EVENTS.name  # must be in the registry entry's `produces` (checked)
CONTACTS_TOPIC = CONTACTS_EVENTS.name


class PrivacySettings(PersonalDataSettings):
    PRIVACY_DB = fields.String(load_default="crm_privacy", validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,60}$"))
    # The Ed25519 private key (a 32-byte seed, base64) that signs certificates; its public key is served at
    # /v1/privacy/public-key. Generate one with: openssl rand -base64 32. Required by the API alone, which signs:
    # the worker never holds it (a private key is given to as few processes as possible)
    PRIVACY_SIGNING_KEY = Base64Key(load_default=None, metadata={"required_by": ["api"]})
    # How long a request waits for every service's reply before it completes as partially_completed
    PRIVACY_REPLY_TIMEOUT_S = fields.Integer(load_default=900, validate=validate.Range(min=1, max=30 * 86400))
    # How long an export can be downloaded; then its key is shredded and its blobs discarded
    PRIVACY_EXPORT_TTL_S = fields.Integer(load_default=7 * 86400, validate=validate.Range(min=60, max=90 * 86400))
    # How long a request's requester, reason and email are kept after it ended (completed or rejected), as proof
    # of handling the rights request (CNIL: 3 years); then its key is shredded and they read as null
    PRIVACY_REQUEST_RETENTION_DAYS = fields.Integer(load_default=3 * 365, validate=validate.Range(min=1, max=10 * 366))
    # How long a request about a contact privacy's contacts directory does not know yet waits for it (the
    # directory follows contacts.events a moment behind); still unknown then, it is rejected (no_matching_contact)
    PRIVACY_CONTACT_WAIT_S = fields.Float(load_default=5.0, validate=validate.Range(min=0, max=20))
    # How often the worker looks for requests timed out and exports expired
    PRIVACY_SWEEP_EVERY_S = fields.Float(load_default=30.0, validate=validate.Range(min=0.1, max=3600))
    # The scan after each erasure (issue 13, item 5): the databases it reads, comma-separated (empty: every
    # service's of the registry, as its own setting names it, the key vault and the privacy exchange), how long it
    # may take before the next round tries again, and how often the worker looks for erasures to verify
    PRIVACY_VERIFY_DATABASES = fields.String(load_default="", validate=validate.Regexp(
        r"^([A-Za-z0-9_-]{1,60}(,[A-Za-z0-9_-]{1,60})*)?$", error="comma-separated database names"))
    PRIVACY_VERIFY_TIMEOUT_S = fields.Float(load_default=300.0, validate=validate.Range(min=1, max=86400))
    PRIVACY_VERIFY_EVERY_S = fields.Float(load_default=1.0, validate=validate.Range(min=0.1, max=3600))
    WORKER_HEARTBEAT_FILE = fields.String(load_default="/tmp/privacy-worker.heartbeat")


def load(environ=None) -> dict:
    source = dict(os.environ if environ is None else environ)
    settings = load_settings(PrivacySettings(), source)
    return {**settings, "PRIVACY_VERIFY_DATABASES": verified_databases(settings, source)}


def verified_databases(settings: dict, environ: dict) -> list[str]:
    """The databases the scan after an erasure reads: those named, or every service's of the registry (its own
    setting's value here, else its default `crm_<name>`), the key vault's and the privacy exchange's."""
    named = [name for name in settings["PRIVACY_VERIFY_DATABASES"].split(",") if name]
    if named:
        return list(dict.fromkeys(named))
    services = [environ.get(service.db_setting) or f"crm_{service.name}" for service in registry.load().services]
    return list(dict.fromkeys([*services, settings["KEYVAULT_DB"], settings["PRIVACY_EXCHANGE_DB"]]))


def load_api(environ=None) -> dict:
    """The API's settings: those of the service, and the signing key."""
    return required_by_api(load(environ))


def required_by_api(settings: dict) -> dict:
    missing = sorted(name for name, field in PrivacySettings().fields.items()
                     if "api" in field.metadata.get("required_by", ()) and settings.get(name) is None)
    if missing:
        raise ConfigurationError(f"invalid configuration: {'; '.join(f'{n}: required by the API' for n in missing)}")
    return settings
