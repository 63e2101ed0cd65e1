"""The unit of work: the boundary of one command (changes are saved on commit, dropped otherwise)."""
from __future__ import annotations

from crm_platform.event_store import EventStore
from crm_platform.personal_data import PersonalDataCipher

from contacts.adapters.repository import ContactRepository


class UnitOfWork:
    def __init__(self, store: EventStore, cipher: PersonalDataCipher) -> None:
        self._store = store
        self._cipher = cipher
        self.contacts: ContactRepository

    def __enter__(self) -> "UnitOfWork":
        self.contacts = ContactRepository(self._store, self._cipher)
        return self

    def __exit__(self, *exc_info) -> None:
        self.contacts.seen.clear()  # uncommitted events are dropped

    def commit(self) -> None:
        self.contacts.save_pending()
