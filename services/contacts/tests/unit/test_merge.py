"""Merging contacts on the real handlers with the in-memory event store."""
import pytest

from crm_platform.errors import StaleRevision
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound, DuplicateContact, InvalidContact
from contacts.domain.events import ContactDeleted, ContactsMerged
from contacts.domain.merging import merge_details
from contacts.domain.notes import NoteNotFound
from contacts.service_layer import handlers, label_handlers, merge_handlers, note_handlers
from contacts.service_layer.unit_of_work import UnitOfWork


@pytest.fixture
def store():
    return InMemoryEventStore()


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def uow(store, cipher):
    return UnitOfWork(store, cipher, InMemoryIdentityClaims())


def create(uow, account="acct-1", **details):
    return handlers.create_contact(commands.CreateContact(account, details), uow)


def merge(uow, target, *sources, account="acct-1", notes=None, revision=None):
    notes_of = lambda account_id, contact_id: (notes or {}).get(contact_id, [])  # noqa: E731
    return merge_handlers.merge_contacts(
        commands.MergeContacts(account, target.id, [s.id for s in sources], revision), uow, notes_of,
        attachment_ids_of=lambda account_id, contact_id: [])


def test_lists_are_combined_without_losing_values_and_the_target_wins_single_values():
    target = {"first_name": "Louise", "emails": [{"address": "louise@papier.fr", "primary": True}],
              "phones": [], "addresses": [], "websites": [], "labels": ["client"], "custom_fields": {"ca": 1}}
    source = {"first_name": "L.", "last_name": "Desnotés", "emails": [
        {"address": "LOUISE@papier.fr", "primary": True}, {"address": "l.desnotes@gmail.com", "primary": False}],
        "phones": [{"number": "03 20 06 51 26", "e164": "+33320065126", "primary": True}],
        "addresses": [{"tag": "work", "street": ["1 rue du Papier"], "city": "Lille"}],
        "websites": ["https://papier.fr"], "labels": ["client", "fournisseur"], "custom_fields": {"ca": 2, "note": "x"}}
    merged = merge_details(target, [source])
    assert merged["first_name"] == "Louise" and merged["last_name"] == "Desnotés"
    assert [(e["address"], e["primary"]) for e in merged["emails"]] == [
        ("louise@papier.fr", True), ("l.desnotes@gmail.com", False)]
    assert merged["phones"] == [{"number": "03 20 06 51 26", "e164": "+33320065126", "primary": True}]
    assert merged["addresses"] == source["addresses"] and merged["websites"] == ["https://papier.fr"]
    assert merged["labels"] == ["client", "fournisseur"]
    assert merged["custom_fields"] == {"ca": 1, "note": "x"}


def test_a_merge_may_not_pass_the_list_limits():
    many = lambda start: {"websites": [f"https://site{i}.fr" for i in range(start, start + 30)]}  # noqa: E731
    with pytest.raises(InvalidContact) as excinfo:
        merge_details(many(0), [many(100)])
    assert "websites" in excinfo.value.errors


def test_merge_records_which_ids_became_which_and_deletes_the_sources(store, cipher, uow):
    label_handlers.create_label(commands.CreateLabel("acct-1", "Fournisseur"), uow)
    target = create(uow, first_name="Louise", emails=[{"address": "louise@papier.fr"}])
    a = create(uow, last_name="Desnotés", phones=[{"number": "03 20 06 51 26"}])
    b = create(uow, company="Maison du Papier", emails=[{"address": "contact@papier.fr"}])
    label_handlers.assign_label(commands.AssignLabel("acct-1", b.id, "fournisseur"), uow)
    note = note_handlers.add_note(commands.AddNote("acct-1", a.id, "call_summary", "Rappeler lundi"), uow)
    merged = merge(uow, target, a, b, notes={a.id: [note.id]})
    assert (merged.details["first_name"], merged.details["last_name"], merged.details["company"]) == (
        "Louise", "Desnotés", "Maison du Papier")
    assert [e["address"] for e in merged.details["emails"]] == ["louise@papier.fr", "contact@papier.fr"]
    assert merged.details["labels"] == ["fournisseur"]
    event = UnitOfWork.event_codec(cipher).from_envelope(store.load(target.id)[-1])
    assert isinstance(event, ContactsMerged) and event.source_ids == [a.id, b.id]
    for source in (a, b):
        gone = UnitOfWork.event_codec(cipher).from_envelope(store.load(source.id)[-1])
        assert gone == ContactDeleted(source.id, "acct-1", merged_into=target.id)
        with pytest.raises(ContactNotFound):
            with uow:
                uow.contacts.get("acct-1", source.id)
    # the note followed, and is gone from the source
    assert note_handlers.edit_note(commands.EditNote("acct-1", target.id, note.id, 2, None, "Rappelé"), uow).text == "Rappelé"
    with pytest.raises(NoteNotFound):
        note_handlers.edit_note(commands.EditNote("acct-1", a.id, note.id, 3, None, "x"), uow)
    # the sources' emails and phones now count as the target's for the duplicate check
    with pytest.raises(DuplicateContact) as excinfo:
        create(uow, first_name="Autre", emails=[{"address": "contact@papier.fr"}])
    assert excinfo.value.extra["existing_contact_id"] == target.id


def test_merge_refuses_bad_sources_and_other_accounts(uow):
    target = create(uow, first_name="T")
    other = create(uow, account="acct-2", first_name="O")
    with pytest.raises(ContactNotFound):
        merge(uow, target, other)
    with pytest.raises(InvalidContact):
        merge(uow, target, target)
    six = [create(uow, first_name=f"S{i}") for i in range(6)]
    with pytest.raises(InvalidContact):
        merge(uow, target, *six)
    with pytest.raises(InvalidContact):
        merge(uow, target, six[0], six[0])
    with pytest.raises(StaleRevision):
        merge(uow, target, six[0], revision=target.revision + 1)


def test_merging_again_after_an_interruption_adds_nothing(uow):
    target = create(uow, first_name="T", emails=[{"address": "t@x.fr"}])
    source = create(uow, first_name="S", emails=[{"address": "s@x.fr"}])
    with uow:
        t = uow.contacts.get("acct-1", target.id)
        t.absorb([uow.contacts.get("acct-1", source.id)])
        uow.commit()  # the process stopped here: the source still exists
    merged = merge(uow, target, source)
    assert [e["address"] for e in merged.details["emails"]] == ["t@x.fr", "s@x.fr"]


def test_a_merge_sent_again_after_some_sources_were_merged_finishes_the_rest(uow):
    target = create(uow, first_name="T")
    done, left = create(uow, first_name="A", emails=[{"address": "a@x.fr"}]), create(uow, emails=[{"address": "b@x.fr"}])
    merge(uow, target, done)
    merged = merge(uow, target, done, left)  # `done` is merged into the target already: passed over
    assert [e["address"] for e in merged.details["emails"]] == ["a@x.fr", "b@x.fr"]
    assert merge(uow, target, done, left).revision == merged.revision  # nothing left to do
    other, elsewhere = create(uow, first_name="O"), create(uow, first_name="X")
    merge(uow, other, elsewhere)
    with pytest.raises(ContactNotFound):  # merged into another contact: not this merge's to pass over
        merge(uow, target, elsewhere)
