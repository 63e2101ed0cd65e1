"""Envelopes of `contacts.events` as the contacts service publishes them, for billing's consumer tests."""
from __future__ import annotations

from crm_platform.contracts.contacts import (
    CONTACT_AGGREGATE_TYPE, CONTACT_LIFECYCLE_CLASSES, CONTACT_STATE_CLASSES, ContactCreated, ContactDeleted, ContactErased, ContactsMerged,
    ContactUpdated,
)
from crm_platform.event_codec import EventCodec

LOUISE = {
    "first_name": "Louise", "last_name": "Desnotes", "company": "Maison du Papier", "vat_number": "FR40303265045",
    "emails": [{"address": "l.desnotes@example.fr", "primary": False}, {"address": "louise@papier.fr", "primary": True}],
    "addresses": [{"tag": "home", "city": "Roubaix", "country": "FR"},
                  {"tag": "billing", "street": ["3 rue Neuve"], "postal_code": "59000", "city": "Lille", "country": "FR"}],
}


class ContactEvents:
    """One account's contact events, sealed with the given cipher, numbered per contact as the producer does."""

    def __init__(self, cipher, account_id: str = "acct-1") -> None:
        self.codec = EventCodec(CONTACT_LIFECYCLE_CLASSES, cipher)
        self.account_id = account_id
        self.versions: dict[str, int] = {}

    def _envelope(self, contact_id: str, event):
        self.versions[contact_id] = self.versions.get(contact_id, 0) + 1
        if not isinstance(event, CONTACT_STATE_CLASSES):  # no details: nothing sealed (the key may be shredded)
            return self.codec.to_envelope(event, CONTACT_AGGREGATE_TYPE, contact_id, self.versions[contact_id],
                                          self.account_id)
        with self.codec.sealing([event]):
            return self.codec.to_envelope(event, CONTACT_AGGREGATE_TYPE, contact_id, self.versions[contact_id],
                                          self.account_id)

    def created(self, contact_id: str, details: dict):
        return self._envelope(contact_id, ContactCreated(contact_id, self.account_id, details, "2026-12-01T10:00:00+00:00"))

    def updated(self, contact_id: str, details: dict):
        return self._envelope(contact_id, ContactUpdated(contact_id, self.account_id, details, "2026-12-01T10:00:00+00:00",
                                                         changed=sorted(details)))

    def merged(self, contact_id: str, details: dict, source_ids: list[str]):
        return self._envelope(contact_id, ContactsMerged(contact_id, self.account_id, details,
                                                         "2026-12-01T10:00:00+00:00", source_ids=source_ids))

    def deleted(self, contact_id: str, merged_into: str | None = None):
        return self._envelope(contact_id, ContactDeleted(contact_id, self.account_id, merged_into))

    def erased(self, contact_id: str):
        return self._envelope(contact_id, ContactErased(contact_id, self.account_id))
