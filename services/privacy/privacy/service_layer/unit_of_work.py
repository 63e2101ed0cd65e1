"""The privacy service's unit of work: its aggregate types, listed once."""
from __future__ import annotations

from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.repository import Repository
from crm_platform.unit_of_work import UnitOfWork as KernelUnitOfWork

from privacy.adapters.shredded_records import ShreddedRecordsReadAsNull
from privacy.domain.requests import PrivacyRequest


class UnitOfWork(KernelUnitOfWork):
    aggregates = {"requests": PrivacyRequest}
    requests: Repository[PrivacyRequest]

    @classmethod
    def event_codec(cls, cipher: PersonalDataCipher | None = None) -> EventCodec:
        """The kernel's codec, but a request whose record was shredded still loads (its personal fields null)."""
        return super().event_codec(cipher and ShreddedRecordsReadAsNull(cipher))
