"""The gateway's unit of work: its one aggregate type, on the kernel's unit of work."""
from __future__ import annotations

from crm_platform.unit_of_work import UnitOfWork as KernelUnitOfWork

from gateway.domain.accounts import Account


class UnitOfWork(KernelUnitOfWork):
    aggregates = {"accounts": Account}
