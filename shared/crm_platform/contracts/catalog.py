"""Every published topic, in one list (a new service adds its module's topic here)."""
from __future__ import annotations

from crm_platform.contracts.accounts import ACCOUNTS_EVENTS
from crm_platform.contracts.contacts import CONTACTS_EVENTS

TOPICS = (ACCOUNTS_EVENTS, CONTACTS_EVENTS)
