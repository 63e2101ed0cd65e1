"""Settings of the workflows service, from the environment, validated at start-up."""
from __future__ import annotations

from marshmallow import fields, validate

from crm_platform.contracts.accounts import ACCOUNTS_EVENTS
from crm_platform.contracts.contacts import CONTACTS_EVENTS
from crm_platform.contracts.workflows import WORKFLOWS_EVENTS
from crm_platform.settings import PersonalDataSettings, load_settings

SERVICE_NAME = "workflows"
EVENTS_TOPIC = WORKFLOWS_EVENTS.name  # must be in the registry entry's `produces` (checked)
ACCOUNTS_TOPIC = ACCOUNTS_EVENTS.name
CONTACTS_TOPIC = CONTACTS_EVENTS.name


class WorkflowsSettings(PersonalDataSettings):
    WORKFLOWS_DB = fields.String(load_default="crm_workflows", validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,60}$"))
    WORKER_HEARTBEAT_FILE = fields.String(load_default="/tmp/workflows-worker.heartbeat")


def load(environ=None) -> dict:
    return load_settings(WorkflowsSettings(), environ)
