"""The real handlers, on the in-memory event store and key store."""
import pytest

from crm_platform.errors import DependencyUnavailable
from crm_platform.event_store import ConcurrencyConflict
from crm_platform.mongo import DataRefused
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain.events import data_subject
from contacts.domain import commands
from contacts.domain.errors import ContactNotFound, StaleContactRevision
from contacts.service_layer import handlers
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def claims():
    return InMemoryIdentityClaims()


@pytest.fixture
def uow(store, cipher, claims):
    return UnitOfWork(store, cipher, claims)


def create(uow, account="acct-1", **details):
    details = details or {"first_name": "Louise", "last_name": "Desnotes"}
    return handlers.create_contact(commands.CreateContact(account, details), uow)


def test_create_stores_a_contact_created_event_with_sealed_personal_data(uow, store):
    contact = create(uow)
    [envelope] = store.all_events
    assert envelope.event_type == "ContactCreated"
    assert envelope.aggregate_id == contact.id and envelope.aggregate_version == 1
    assert envelope.account_id == "acct-1"
    assert "Louise" not in str(envelope.payload)
    assert envelope.payload["personal"]["subject"] == data_subject(contact.id)


def test_update_then_delete_append_versions_2_and_3(uow, store):
    contact = create(uow)
    handlers.update_contact(commands.UpdateContact("acct-1", contact.id, 1, {"company": "Maison du Papier"}), uow)
    handlers.delete_contact(commands.DeleteContact("acct-1", contact.id, 2), uow)
    assert [(e.event_type, e.aggregate_version) for e in store.load(contact.id)] == [
        ("ContactCreated", 1), ("ContactUpdated", 2), ("ContactDeleted", 3)
    ]


def test_another_account_cannot_see_or_change_the_contact(uow):
    contact = create(uow)
    with pytest.raises(ContactNotFound):
        handlers.update_contact(commands.UpdateContact("acct-2", contact.id, 1, {"company": "X"}), uow)
    with pytest.raises(ContactNotFound):
        handlers.delete_contact(commands.DeleteContact("acct-2", contact.id, None), uow)


def test_stale_revision_is_a_conflict(uow):
    contact = create(uow)
    handlers.update_contact(commands.UpdateContact("acct-1", contact.id, 1, {"company": "A"}), uow)
    with pytest.raises(StaleContactRevision):
        handlers.update_contact(commands.UpdateContact("acct-1", contact.id, 1, {"company": "B"}), uow)


def test_two_writers_from_the_same_revision_one_gets_a_conflict(store, cipher, claims):
    contact = create(UnitOfWork(store, cipher, claims))
    first, second = UnitOfWork(store, cipher, claims), UnitOfWork(store, cipher, claims)
    with first, second:
        a = first.contacts.get("acct-1", contact.id)
        b = second.contacts.get("acct-1", contact.id)
        a.update(1, {"company": "A"})
        b.update(1, {"company": "B"})
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.commit()


def test_an_erased_contact_is_not_found(uow, cipher):
    contact = create(uow)
    cipher.shred(data_subject(contact.id))
    with pytest.raises(ContactNotFound):
        handlers.update_contact(commands.UpdateContact("acct-1", contact.id, 1, {"company": "X"}), uow)


def test_changes_are_dropped_when_the_handler_fails_before_commit(uow, store):
    contact = create(uow)
    with pytest.raises(RuntimeError):
        with uow:
            uow.contacts.get("acct-1", contact.id).update(1, {"company": "X"})
            raise RuntimeError("boom")
    assert len(store.load(contact.id)) == 1


def test_a_note_id_given_as_a_contact_id_is_no_contact_and_the_note_stays_untouched(uow):
    """One event store holds every aggregate type; a contact endpoint once wrote ContactDeleted into a note's stream."""
    from contacts.service_layer import note_handlers

    louise = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "Louise"}), uow)
    note = note_handlers.add_note(commands.AddNote("acct-1", louise.id, "note", "Rappeler"), uow)
    with pytest.raises(ContactNotFound):
        handlers.delete_contact(commands.DeleteContact("acct-1", note.id, 1), uow)
    with pytest.raises(ContactNotFound):
        handlers.update_contact(commands.UpdateContact("acct-1", note.id, 1, {"first_name": "X"}), uow)
    edited = note_handlers.edit_note(commands.EditNote("acct-1", louise.id, note.id, 1, text="Rappelé"), uow)
    assert edited.revision == 2 and edited.text == "Rappelé"


class StoreThatMayHaveStored(InMemoryEventStore):
    """The database went away during the append: the caller cannot know whether the commit is stored."""

    def append(self, events):
        raise DependencyUnavailable("event store unavailable: AutoReconnect")


class StoreThatRefuses(InMemoryEventStore):
    def append(self, events):
        raise DataRefused("event store refused the data", errors={"_schema": ["cannot be stored"]})


def test_claims_of_a_create_that_may_have_been_stored_are_kept(cipher, claims):
    uow = UnitOfWork(StoreThatMayHaveStored(), cipher, claims)
    with pytest.raises(DependencyUnavailable):
        handlers.create_contact(commands.CreateContact("acct-1", {"emails": [{"address": "ana@example.fr"}]}), uow)
    assert len(claims.owners) == 1, "a retry must meet the claim, not create a second contact"


def test_claims_of_a_create_that_surely_failed_are_released(cipher, claims):
    uow = UnitOfWork(StoreThatRefuses(), cipher, claims)
    with pytest.raises(DataRefused):
        handlers.create_contact(commands.CreateContact("acct-1", {"emails": [{"address": "ana@example.fr"}]}), uow)
    assert claims.owners == {}
