import pytest

from crm_platform.errors import InvalidInput, StaleRevision
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound
from contacts.domain.notes import Note, NoteNotFound
from contacts.service_layer import handlers, note_handlers
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def uow():
    return UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())


@pytest.mark.parametrize("kind, text, field", [("memo", "x", "kind"), ("note", "   ", "text"), ("note", "x" * 20_001, "text")])
def test_bad_kinds_and_texts_name_the_field(kind, text, field):
    with pytest.raises(InvalidInput) as excinfo:
        Note.add("acct-1", "c1", kind, text)
    assert field in excinfo.value.errors


def test_notes_need_a_live_contact_of_the_account_and_edits_a_current_revision(uow):
    contact = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "L"}), uow)
    with pytest.raises(ContactNotFound):
        note_handlers.add_note(commands.AddNote("acct-2", contact.id, "note", "x"), uow)
    note = note_handlers.add_note(commands.AddNote("acct-1", contact.id, "call_summary", "Appel"), uow)
    note_handlers.edit_note(commands.EditNote("acct-1", contact.id, note.id, 1, text="Appel de 10 min"), uow)
    with pytest.raises(StaleRevision):
        note_handlers.edit_note(commands.EditNote("acct-1", contact.id, note.id, 1, text="x"), uow)
    note_handlers.delete_note(commands.DeleteNote("acct-1", contact.id, note.id), uow)
    with pytest.raises(NoteNotFound):
        note_handlers.delete_note(commands.DeleteNote("acct-1", contact.id, note.id), uow)
