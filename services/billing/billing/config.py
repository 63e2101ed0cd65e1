"""Settings of the billing service, from the environment, validated at start-up."""
from __future__ import annotations

from marshmallow import fields, validate

from crm_platform.contracts.billing import BILLING_EVENTS
from crm_platform.contracts.contacts import CONTACTS_EVENTS
from crm_platform.settings import PersonalDataSettings, load_settings

SERVICE_NAME = "billing"
EVENTS_TOPIC = BILLING_EVENTS.name  # in the registry entry's `produces` (checked)
CONTACTS_TOPIC = CONTACTS_EVENTS.name  # read to keep billing's own projection of the account's customers


class BillingServiceSettings(PersonalDataSettings):
    BILLING_DB = fields.String(load_default="crm_billing", validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,60}$"))
    WORKER_HEARTBEAT_FILE = fields.String(load_default="/tmp/billing-worker.heartbeat")
    # how often the worker holding the scheduler lease looks for recurring invoices due (end-to-end tests: seconds)
    RECURRING_SCHEDULE_EVERY_S = fields.Float(load_default=60.0, validate=validate.Range(min=0.5, max=3600))
    # the worker's printing consumer lays PDFs out in a child process (adapters/render_process.py); true: in its own
    BILLING_RENDER_IN_PROCESS = fields.Boolean(load_default=False)


def load(environ=None) -> dict:
    return load_settings(BillingServiceSettings(), environ)
