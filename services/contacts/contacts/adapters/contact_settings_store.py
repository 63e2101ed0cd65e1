"""Contact settings in the event store (one `ContactSettings` per account). Read from the store: they are tiny."""
from __future__ import annotations

from crm_platform.aggregates import save_pending
from crm_platform.envelope import EventEnvelope, new_envelope
from crm_platform.event_store import EventStore

from contacts.domain.contact_settings import ContactSettings, DefaultPhoneRegionSet, settings_id

AGGREGATE_TYPE = "ContactSettings"


def to_envelope(event: DefaultPhoneRegionSet, version: int) -> EventEnvelope:
    return new_envelope(event_type=type(event).__name__, aggregate_type=AGGREGATE_TYPE,
                        aggregate_id=settings_id(event.account_id), aggregate_version=version,
                        account_id=event.account_id, payload={"region": event.region})


def from_envelope(envelope: EventEnvelope) -> DefaultPhoneRegionSet:
    return DefaultPhoneRegionSet(envelope.account_id, envelope.payload["region"])


class ContactSettingsRepository:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.seen: dict[str, ContactSettings] = {}

    def get(self, account_id: str) -> ContactSettings:
        history = [from_envelope(e) for e in self._store.load(settings_id(account_id))]
        settings = ContactSettings.from_history(account_id, history)
        self.seen[settings.id] = settings
        return settings

    def save_pending(self) -> None:
        save_pending(self._store, self.seen.values(), to_envelope)
