"""Handlers of the account's billing settings."""
from __future__ import annotations

from billing.domain.settings import BillingSettings, ChangeBillingSettings, settings_id
from billing.service_layer.unit_of_work import UnitOfWork


def change_billing_settings(cmd: ChangeBillingSettings, uow: UnitOfWork) -> BillingSettings:
    with uow:
        settings = uow.settings.find_or_blank(cmd.account_id, settings_id(cmd.account_id))
        settings.change(cmd.revision, cmd.changes)
        uow.commit()
    return settings


def account_settings(account_id: str, uow: UnitOfWork) -> BillingSettings:
    """The account's settings as stored (the defaults, at revision 0, when never set)."""
    with uow:
        return uow.settings.find_or_blank(account_id, settings_id(account_id))
