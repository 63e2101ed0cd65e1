"""The request's account time zone (its workflows settings; Europe/Paris until set): what "overdue" counts in."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from crm_platform.web import account_id, current_container

from workflows.service_layer.task_handlers import account_settings


def account_zone() -> ZoneInfo:
    return ZoneInfo(account_settings(account_id(), current_container().unit_of_work()).time_zone)
