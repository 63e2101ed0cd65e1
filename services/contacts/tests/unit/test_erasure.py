"""Erasing a person on the real handlers with the in-memory event store: gone for good, family and all."""
import pytest

from crm_platform.blobs import BlobStore
from crm_platform.personal_data import PersonalDataCipher, SubjectErased
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain import commands
from contacts.domain.errors import ContactNotFound
from contacts.domain.events import ContactErased, data_subject
from contacts.domain.notes import NoteNotFound
from contacts.service_layer import attachment_handlers, handlers, merge_handlers, note_handlers
from contacts.service_layer.bulk_create import create_many
from contacts.service_layer.erasure import erase_contact
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def keys():
    return InMemorySubjectKeyStore()


@pytest.fixture
def claims():
    return InMemoryIdentityClaims()


@pytest.fixture
def uow(store, keys, claims):
    return UnitOfWork(store, PersonalDataCipher(keys), claims)


LOUISE = {"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}], "phones": [{"number": "+33612345678"}]}


def create(uow, account="acct-1", **details):
    return handlers.create_contact(commands.CreateContact(account, details or LOUISE), uow)


def erase(uow, contact_id, account="acct-1"):
    return erase_contact(commands.EraseContact(account, contact_id), uow, attachment_ids_of=lambda *_: [],
                         notes_shown=lambda *_: []).contact_ids


def test_an_erased_contact_is_gone_for_good_its_claims_deleted_and_its_key_refused(uow, store, keys, claims):
    louise = create(uow)
    paul = create(uow, first_name="Paul", emails=[{"address": "paul@papier.fr"}])
    assert erase(uow, louise.id) == [louise.id]
    assert store.load(louise.id)[-1].event_type == ContactErased.event_type()
    assert store.load(louise.id)[-1].payload == {"contact_id": louise.id}  # nothing personal in the event
    assert keys.is_erased(data_subject(louise.id)) and keys.find(data_subject(louise.id)) is None
    assert sorted(claims.owners.values()) == [paul.id]  # hers are gone, his stay
    with pytest.raises(ContactNotFound):
        handlers.update_contact(commands.UpdateContact("acct-1", louise.id, None, {"first_name": "L"}), uow)
    with pytest.raises(SubjectErased):  # nothing is ever sealed for her again
        uow.cipher.seal(data_subject(louise.id), {"first_name": "Louise"})
    assert erase(uow, louise.id) == [louise.id]  # repeating it is harmless
    assert [e.event_type for e in store.load(louise.id)].count(ContactErased.event_type()) == 1


def test_a_person_created_again_after_erasure_is_a_new_contact(uow):
    louise = create(uow)
    erase(uow, louise.id)
    again = create(uow)  # her email is free again: the claim was deleted with her
    assert again.id != louise.id


def test_erasing_a_merged_contact_erases_the_contact_it_became_and_everything_merged_into_it(uow, keys):
    target = create(uow, first_name="Louise", emails=[{"address": "louise@papier.fr"}])
    source = create(uow, first_name="L.", phones=[{"number": "+33612345678"}])
    older = create(uow, first_name="Lou", emails=[{"address": "lou@papier.fr"}])
    merge_handlers.merge_contacts(commands.MergeContacts("acct-1", source.id, [older.id]), uow,
                                  lambda *_: [], lambda *_: [])
    merge_handlers.merge_contacts(commands.MergeContacts("acct-1", target.id, [source.id]), uow,
                                  lambda *_: [], lambda *_: [])
    bystander = create(uow, first_name="Paul", emails=[{"address": "paul@papier.fr"}])
    assert erase(uow, older.id) == [target.id, source.id, older.id]
    assert all(keys.is_erased(data_subject(i)) for i in (target.id, source.id, older.id))
    assert not keys.is_erased(data_subject(bystander.id))


def test_notes_of_an_erased_contact_no_longer_open(uow, store):
    louise = create(uow)
    note = note_handlers.add_note(commands.AddNote("acct-1", louise.id, "note", "call her at home"), uow)
    erase(uow, louise.id)
    with pytest.raises(SubjectErased):
        uow.codec.from_envelope(store.load(note.id)[0])
    with pytest.raises(NoteNotFound):
        note_handlers.edit_note(commands.EditNote("acct-1", louise.id, note.id, 1, "note", "again"), uow)


def test_only_the_accounts_own_contact_can_be_erased(uow, keys):
    louise = create(uow)
    with pytest.raises(ContactNotFound):
        erase(uow, louise.id, account="acct-2")
    with pytest.raises(ContactNotFound):
        erase(uow, "no-such-contact")
    assert not keys.is_erased(data_subject(louise.id))


def test_a_contact_whose_key_was_shredded_without_the_command_gets_its_erasure_recorded(uow, store):
    louise = create(uow)
    uow.cipher.shred(data_subject(louise.id))  # an erasure that stopped after shredding, or one made by hand
    erase(uow, louise.id)
    assert store.load(louise.id)[-1].event_type == ContactErased.event_type()


def test_an_import_batch_run_again_after_an_erasure_refuses_that_row_and_stores_the_others(uow, keys):
    rows = [{"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]},
            {"first_name": "Paul", "emails": [{"address": "paul@papier.fr"}]}]
    first = create_many(uow, "acct-1", rows)
    erase(uow, first[0].contact_id)
    again = create_many(uow, "acct-1", rows)  # a resumed batch: the same row ids
    assert [o.status for o in again] == ["skipped", "skipped"]
    assert again[0].reason == "this person was erased" and again[0].contact_id is None
    assert keys.find(data_subject(first[0].contact_id)) is None
    assert keys.find(data_subject(first[1].contact_id)) is not None


def test_the_files_of_an_erased_contact_are_deleted_not_only_made_unreadable(store, keys, claims):
    cipher = PersonalDataCipher(keys)
    blobs = BlobStore(InMemoryCollection(), InMemoryCollection(), chunk_size=1000)
    uow = UnitOfWork(store, cipher, claims, AttachmentFiles(blobs, cipher))
    louise = create(uow)
    attachment = attachment_handlers.add_attachment(commands.AddAttachment(
        "acct-1", louise.id, "contrat.pdf", "application/pdf", b"%PDF-1.7\n" + b"x" * 3000, 10**6), uow)
    with uow:
        [blob_id] = uow.attachments.get("acct-1", attachment.id).file.blob_ids
    assert blobs.manifests.find_one({"_id": blob_id}) is not None
    erase_contact(commands.EraseContact("acct-1", louise.id), uow,
                  attachment_ids_of=lambda account, contact: [attachment.id] if contact == louise.id else [],
                  notes_shown=lambda *_: [])
    assert blobs.manifests.find_one({"_id": blob_id}) is None and blobs.chunks.find_one({"_id": f"{blob_id}:000000"}) is None


def test_the_erasure_forgets_the_timeline_of_each_contact_of_the_family(uow):
    louise = create(uow)
    paul = create(uow, first_name="Paul", emails=[{"address": "paul@papier.fr"}])
    merge_handlers.merge_contacts(commands.MergeContacts("acct-1", louise.id, [paul.id]), uow, lambda *_: [], lambda *_: [])
    forgotten = []
    erase_contact(commands.EraseContact("acct-1", louise.id), uow, attachment_ids_of=lambda *_: [],
                  notes_shown=lambda *_: [], forget_timeline=lambda *ids: forgotten.append(ids) or 0)
    assert sorted(forgotten) == sorted([("acct-1", louise.id), ("acct-1", paul.id)])
