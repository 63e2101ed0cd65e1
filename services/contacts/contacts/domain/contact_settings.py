"""The account's contact settings: for now the region its phone numbers are read in when typed without +country.

One small aggregate per account. An account that never set it uses the
deployment's DEFAULT_PHONE_REGION.
"""
from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from crm_platform.aggregates import Aggregate, DomainEvent
from crm_platform.errors import InvalidInput


@dataclass(frozen=True)
class DefaultPhoneRegionSet(DomainEvent):
    account_id: str
    region: str


def settings_id(account_id: str) -> str:
    return f"contact-settings:{account_id}"


class ContactSettings(Aggregate):
    aggregate_type = "ContactSettings"
    event_classes = (DefaultPhoneRegionSet,)

    def __init__(self, account_id: str) -> None:
        super().__init__(settings_id(account_id), account_id)
        self.phone_region: str | None = None  # None: the deployment's default

    @classmethod
    def blank(cls, aggregate_id: str, account_id: str) -> "ContactSettings":
        return cls(account_id)

    def set_phone_region(self, region: str) -> None:
        region = (region or "").strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise InvalidInput("unknown phone region", errors={
                "default_phone_region": ["a region phonenumbers knows, as an ISO 3166-1 alpha-2 code (FR, BE, CH...)"]})
        if region != self.phone_region:
            self._record(DefaultPhoneRegionSet(self.account_id, region))

    def _apply(self, event: DefaultPhoneRegionSet) -> None:
        self.phone_region = event.region
