"""Which handler takes which message: one per command, any number per event (the message bus reads these)."""
from __future__ import annotations

from billing.domain.settings import ChangeBillingSettings
from billing.service_layer import settings_handlers

COMMAND_HANDLERS = {
    ChangeBillingSettings: settings_handlers.change_billing_settings,
}

EVENT_HANDLERS: dict = {}
