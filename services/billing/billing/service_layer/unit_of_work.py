"""The billing service's unit of work: its aggregate types, listed once."""
from __future__ import annotations

from crm_platform.repository import Repository
from crm_platform.unit_of_work import UnitOfWork as KernelUnitOfWork

from billing.domain.settings import BillingSettings


class UnitOfWork(KernelUnitOfWork):
    aggregates = {"settings": BillingSettings}
    settings: Repository[BillingSettings]
