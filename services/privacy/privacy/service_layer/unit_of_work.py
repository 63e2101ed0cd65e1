"""The privacy service's unit of work: its aggregate types, listed once."""
from __future__ import annotations

from crm_platform.repository import Repository
from crm_platform.unit_of_work import UnitOfWork as KernelUnitOfWork

from privacy.domain.requests import PrivacyRequest


class UnitOfWork(KernelUnitOfWork):
    aggregates = {"requests": PrivacyRequest}
    requests: Repository[PrivacyRequest]
