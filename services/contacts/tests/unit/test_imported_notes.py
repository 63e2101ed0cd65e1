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


def _row_with_note(contact_id):
    from contacts.importing import ConvertedRow
    from contacts.service_layer.bulk_create import RowOutcome
    return ConvertedRow(3, {"first_name": "Louise"}, note="Rappeler en mars"), RowOutcome("created", contact_id)


def test_a_note_that_cannot_be_filed_while_its_contact_is_merged_makes_the_job_run_the_batch_again(uow, monkeypatch):
    from crm_platform.outages import is_transient
    from contacts.domain.errors import MergeNotFinished
    from contacts.service_layer import imported_notes

    def merging(cmd, uow):
        raise MergeNotFinished("the notes or files of contact c-1 kept changing; send the request again",
                               contact_id=cmd.contact_id)
    monkeypatch.setattr(imported_notes, "add_imported_note", merging)
    row, outcome = _row_with_note("c-1")
    with pytest.raises(imported_notes.NoteMidMerge) as busy:
        imported_notes.add_row_notes(uow, "acct-1", "imp-1", [row], [outcome], lambda *a: False)
    assert is_transient(busy.value)  # the job runner waits it out and runs the batch again (crm_platform.jobs)


def test_a_batch_run_again_files_the_note_a_merge_kept_it_from_filing(uow, monkeypatch):
    from contacts.domain.errors import MergeNotFinished
    from contacts.domain.holdings import holdings_id
    from contacts.service_layer import holdings, imported_notes
    contact = handlers.create_contact(commands.CreateContact("acct-1", {"first_name": "Louise"}), uow)
    row, outcome = _row_with_note(contact.id)
    filing = holdings.file_items

    def busy(*args, **kwargs):
        raise MergeNotFinished("the notes or files of a contact kept changing; send the request again")
    monkeypatch.setattr(holdings, "file_items", busy)
    with pytest.raises(imported_notes.NoteMidMerge):  # stored, not filed
        imported_notes.add_row_notes(uow, "acct-1", "imp-1", [row], [outcome], lambda *a: False)
    monkeypatch.setattr(holdings, "file_items", filing)
    # the run again: the contact has the stored note's text now, and the note is filed all the same
    imported_notes.add_row_notes(uow, "acct-1", "imp-1", [row], [outcome], lambda *a: True)
    with uow:
        held = uow.holdings.find_or_blank("acct-1", holdings_id(contact.id))
    assert len(held.note_ids) == 1


def test_a_note_for_a_contact_deleted_meanwhile_is_dropped_and_the_row_keeps_its_outcome(uow, monkeypatch):
    from contacts.domain.errors import ContactNotFound
    from contacts.service_layer import imported_notes

    def deleted(cmd, uow):
        raise ContactNotFound(cmd.contact_id)
    monkeypatch.setattr(imported_notes, "add_imported_note", deleted)
    row, outcome = _row_with_note("c-1")
    assert imported_notes.add_row_notes(uow, "acct-1", "imp-1", [row], [outcome], lambda *a: False) == [outcome]
