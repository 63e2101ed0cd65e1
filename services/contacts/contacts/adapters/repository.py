"""The event-sourced contact repository: loads contacts from their events, saves new events."""
from __future__ import annotations

from crm_platform.aggregates import save_new_in_bulk, save_pending
from crm_platform.event_store import EventStore
from crm_platform.personal_data import PersonalDataCipher, SubjectErased

from contacts.adapters.event_codec import data_subject, from_envelope, to_envelope
from contacts.domain.errors import ContactNotFound
from contacts.domain.model import Contact


class ContactRepository:
    def __init__(self, store: EventStore, cipher: PersonalDataCipher) -> None:
        self._store = store
        self._cipher = cipher
        self.seen: dict[str, Contact] = {}

    def add(self, contact: Contact) -> None:
        self.seen[contact.id] = contact

    def get(self, account_id: str, contact_id: str) -> Contact:
        """The live contact of this account; ContactNotFound for another account's, a deleted or an erased one."""
        history = self._store.load(contact_id)
        if not history or history[0].account_id != account_id:
            raise ContactNotFound(contact_id)
        try:
            contact = Contact.from_history(contact_id, account_id, [from_envelope(e, self._cipher) for e in history])
        except SubjectErased:
            raise ContactNotFound(contact_id) from None
        if contact.deleted:
            raise ContactNotFound(contact_id)
        self.seen[contact.id] = contact
        return contact

    def merged_into(self, account_id: str, contact_id: str) -> str | None:
        """The contact this one was merged into, if it was (its last event says so)."""
        history = self._store.load(contact_id)
        if not history or history[0].account_id != account_id or history[-1].event_type != "ContactDeleted":
            return None
        return history[-1].payload.get("merged_into")

    def ever_existed(self, contact_id: str) -> bool:
        """Whether the contact has any stored event (it may since have been deleted or erased)."""
        return bool(self._store.load(contact_id))

    def save_pending(self) -> None:
        """Append each touched contact's new events as one atomic commit."""
        save_pending(self._store, self.seen.values(), lambda event, version: to_envelope(event, version, self._cipher))

    def add_new_in_bulk(self, contacts: list[Contact]) -> list[int]:
        """Store new contacts at once (not part of the unit of work's commit); the indexes of ids already taken."""
        with self._cipher.keys_ready([data_subject(contact.id) for contact in contacts], create=True):
            return save_new_in_bulk(self._store, contacts, lambda event, version: to_envelope(event, version, self._cipher))
