"""Settings of the contacts service, from the environment, validated at start-up."""
from __future__ import annotations

from marshmallow import fields, validate

from crm_platform.contracts.accounts import ACCOUNTS_EVENTS
from crm_platform.contracts.contacts import CONTACTS_EVENTS
from crm_platform.settings import PersonalDataSettings, load_settings

SERVICE_NAME = "contacts"
EVENTS_TOPIC = CONTACTS_EVENTS.name
ACCOUNTS_TOPIC = ACCOUNTS_EVENTS.name
# The categories Opentime gives every new account, as labels.
DEFAULT_LABELS = ("Client", "Partenaire", "Prospect")


class ContactsSettings(PersonalDataSettings):
    CONTACTS_DB = fields.String(load_default="crm_contacts", validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,60}$"))
    WORKER_HEARTBEAT_FILE = fields.String(load_default="/tmp/contacts-worker.heartbeat")
    DEFAULT_PHONE_REGION = fields.String(
        load_default="FR", validate=validate.Regexp(r"^[A-Z]{2}$", error="an ISO 3166-1 alpha-2 code such as FR")
    )
    # Uploads are read in memory (at most one per gunicorn thread at a time): keep these well below the pod's memory.
    ATTACHMENT_MAX_BYTES = fields.Integer(load_default=10 * 2**20, validate=validate.Range(min=1024, max=64 * 2**20))
    IMPORT_MAX_BYTES = fields.Integer(load_default=15 * 2**20, validate=validate.Range(min=1024, max=100 * 2**20))
    # Uploaded import files and their failed rows hold everyone in them: forgotten (key shredded) after this,
    # at most a month, as an erased person's row stays in them until then.
    IMPORT_RETENTION_DAYS = fields.Integer(load_default=7, validate=validate.Range(min=1, max=30))
    PICTURE_MAX_BYTES = fields.Integer(load_default=5 * 2**20, validate=validate.Range(min=1024, max=20 * 2**20))


def load(environ=None) -> dict:
    return load_settings(ContactsSettings(), environ)
