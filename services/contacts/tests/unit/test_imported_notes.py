"""A note brought by an imported row: added once, whatever the number of runs of its batch."""
import pytest

from crm_platform.errors import InvalidInput
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.notes import checked_text
from contacts.service_layer import handlers, note_handlers
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def uow():
    return UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())


def test_an_imported_note_is_added_once_under_an_id_derived_from_the_import_row(uow):
    contact = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "Louise"}), uow)
    cmd = commands.AddImportedNote("acct-1", contact.id, "imp-1", 7, "Rencontrée au salon\nRappeler en mars")
    assert note_handlers.add_imported_note(cmd, uow) is True
    assert note_handlers.add_imported_note(cmd, uow) is False  # a resumed batch
    with uow:
        note = uow.notes.get("acct-1", note_handlers.imported_note_id(cmd))
    assert (note.contact_id, note.kind, note.text) == (contact.id, "note", "Rencontrée au salon\nRappeler en mars")
    other_row = commands.AddImportedNote("acct-1", contact.id, "imp-1", 8, "Autre")
    assert note_handlers.imported_note_id(other_row) != note_handlers.imported_note_id(cmd)
    assert note_handlers.add_imported_note(other_row, uow) is True


def test_an_imported_note_text_is_checked_like_any_note():
    with pytest.raises(InvalidInput):
        checked_text("a\x00b")
    assert checked_text("  Ligne 1\nLigne 2 ") == "Ligne 1\nLigne 2"
