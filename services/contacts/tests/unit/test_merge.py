"""Merging contacts on the real handlers with the in-memory event store."""
import pytest

from crm_platform.blobs import BlobStore
from crm_platform.errors import Conflict, NotFound, StaleRevision
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain import commands
from contacts.domain.errors import ContactNotFound, DuplicateContact, InvalidContact
from contacts.domain.events import ContactDeleted, ContactsMerged
from contacts.domain.merging import merge_details
from contacts.domain.notes import NoteNotFound
from contacts.service_layer import (
    attachment_handlers, duplicates, handlers, label_handlers, merge_handlers, note_handlers,
)
from contacts.service_layer.unit_of_work import UnitOfWork


PDF = b"%PDF-1.7\n" + b"x" * 3000


class StoreWithInterruptions(InMemoryEventStore):
    """The in-memory store, which can run another request just before or just after a commit holding an event
    of a given type is stored (what a concurrent request does while a merge is between two of its steps)."""

    def __init__(self) -> None:
        super().__init__()
        self._interruptions: list = []

    def after(self, event_type: str, request, aggregate_id: str | None = None) -> None:
        self._interruptions.append(("after", event_type, aggregate_id, request))

    def before(self, event_type: str, request, aggregate_id: str | None = None) -> None:
        self._interruptions.append(("before", event_type, aggregate_id, request))

    def append(self, events) -> None:
        self._interrupt("before", events)
        super().append(events)
        self._interrupt("after", events)

    def _interrupt(self, moment: str, events) -> None:
        for interruption in list(self._interruptions):
            when, event_type, aggregate_id, request = interruption
            if when == moment and any(e.event_type == event_type and aggregate_id in (None, e.aggregate_id)
                                      for e in events):
                self._interruptions.remove(interruption)
                request()


@pytest.fixture
def store():
    return StoreWithInterruptions()


@pytest.fixture
def cipher():
    return PersonalDataCipher(InMemorySubjectKeyStore())


@pytest.fixture
def claims():
    return InMemoryIdentityClaims()


@pytest.fixture
def files(cipher):
    return AttachmentFiles(BlobStore(InMemoryCollection(), InMemoryCollection()), cipher)


@pytest.fixture
def uow(store, cipher, claims, files):
    return UnitOfWork(store, cipher, claims, files)


@pytest.fixture
def other_uow(store, cipher, claims, files):
    """Another request's unit of work on the same stores."""
    return UnitOfWork(store, cipher, claims, files)


def create(uow, account="acct-1", **details):
    return handlers.create_contact(commands.CreateContact(account, details), uow)


def merge(uow, target, *sources, account="acct-1", notes=None, revision=None, attachments=None):
    """The merge handler, with what the notes and attachments read models would answer (by contact id)."""
    notes_of = lambda account_id, contact_id: (notes or {}).get(contact_id, [])  # noqa: E731
    return merge_handlers.merge_contacts(
        commands.MergeContacts(account, target.id, [s.id for s in sources], revision), uow, notes_of,
        attachment_ids_of=lambda account_id, contact_id: (attachments or {}).get(contact_id, []))


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


def live(uow, contact_id, account="acct-1"):
    with uow:
        contact = uow.contacts.find(account, contact_id)
    return None if contact is None or contact.deleted else contact


def emails(contact):
    return sorted(e["address"] for e in contact.details["emails"])


def events_of(store, aggregate_id, event_type=None):
    return [e for e in store.load(aggregate_id) if event_type in (None, e.event_type)]


# 1. a change to a source after the target took it in is not lost

def test_a_source_changed_while_it_is_merged_is_taken_in_again_before_it_is_deleted(store, uow, other_uow):
    target = create(uow, first_name="T", emails=[{"address": "t@x.fr"}])
    source = create(uow, first_name="S", emails=[{"address": "s@x.fr"}])

    def edit_the_source():
        current = live(other_uow, source.id)
        handlers.update_contact(commands.UpdateContact("acct-1", source.id, current.revision, {
            "phones": [{"number": "03 20 06 51 26"}]}), other_uow)

    store.after("ContactsMerged", edit_the_source, aggregate_id=target.id)
    merge(uow, target, source)
    merged = live(uow, target.id)
    assert [p["e164"] for p in merged.details["phones"]] == ["+33320065126"]
    assert emails(merged) == ["s@x.fr", "t@x.fr"] and live(uow, source.id) is None
    # and the phone the source was given counts as the target's for the duplicate check
    with pytest.raises(DuplicateContact) as excinfo:
        create(uow, first_name="Autre", phones=[{"number": "+33 3 20 06 51 26"}])
    assert excinfo.value.extra["existing_contact_id"] == target.id


# 2. a merge whose target goes away meanwhile stops; two opposite merges never delete both contacts

def test_a_merge_whose_target_is_deleted_meanwhile_stops_and_keeps_the_source(store, uow, other_uow):
    target = create(uow, first_name="T")
    source = create(uow, first_name="S", emails=[{"address": "s@x.fr"}])
    store.after("ContactsMerged", lambda: handlers.delete_contact(commands.DeleteContact("acct-1", target.id), other_uow),
                aggregate_id=target.id)
    with pytest.raises(ContactNotFound):
        merge(uow, target, source)
    assert emails(live(uow, source.id)) == ["s@x.fr"]


@pytest.mark.parametrize("moment", ["just before the source is deleted", "once a file of the source has moved"])
@pytest.mark.parametrize("first_target", ["lower id", "higher id"])
def test_two_opposite_merges_at_the_same_time_keep_one_contact_with_both(store, uow, other_uow, files, first_target,
                                                                         moment):
    a = create(uow, first_name="A", emails=[{"address": "a@x.fr"}])
    b = create(uow, first_name="B", emails=[{"address": "b@x.fr"}])
    low, high = sorted((a, b), key=lambda c: c.id)
    target, source = (low, high) if first_target == "lower id" else (high, low)
    attachment = attachment_handlers.add_attachment(
        commands.AddAttachment("acct-1", source.id, "devis.pdf", "application/pdf", PDF, 10**6), uow)
    refused = []

    def the_opposite_merge():
        try:
            merge_handlers.merge_contacts(commands.MergeContacts("acct-1", source.id, [target.id]), other_uow,
                                          lambda *_: [], lambda *_: [])
        except (Conflict, NotFound) as exc:
            refused.append(exc)

    if moment == "just before the source is deleted":
        store.before("ContactDeleted", the_opposite_merge, aggregate_id=source.id)
    else:
        store.after("AttachmentMoved", the_opposite_merge)
    try:
        merge(uow, target, source, attachments={source.id: [attachment.id]})  # the read model shows the file
    except (Conflict, NotFound) as exc:
        refused.append(exc)
    survivors = [c for c in (live(uow, a.id), live(uow, b.id)) if c is not None]
    assert len(survivors) == 1 and len(refused) == 1
    assert emails(survivors[0]) == ["a@x.fr", "b@x.fr"]


def test_a_contact_that_took_in_a_source_still_live_is_not_merged_away_until_that_merge_is_finished(uow):
    target, source = create(uow, first_name="T"), create(uow, first_name="S", emails=[{"address": "s@x.fr"}])
    elsewhere = create(uow, first_name="E")
    with uow:  # a merge of the source into the target stopped after its first step
        t = uow.contacts.get("acct-1", target.id)
        t.absorb([uow.contacts.get("acct-1", source.id)])
        uow.commit()
    with pytest.raises(Conflict) as excinfo:
        merge(uow, elsewhere, target)
    assert source.id in excinfo.value.detail and live(uow, target.id) is not None
    merge(uow, target, source)  # finishing it
    assert emails(merge(uow, elsewhere, target)) == ["s@x.fr"]


# 3. a retried merge finishes every step

def test_a_retried_merge_whose_sources_are_all_deleted_still_gives_their_identities_to_the_target(uow):
    target = create(uow, first_name="T")
    source = create(uow, first_name="S", emails=[{"address": "s@x.fr"}])
    with uow:  # the merge's steps up to the source's deletion; the process stopped before the last one
        t = uow.contacts.get("acct-1", target.id)
        gone = uow.contacts.get("acct-1", source.id)
        t.absorb([gone])
        gone.merged_into(target.id)
        uow.commit()
    uow.claims.release(next(iter(duplicates.identity_ids(gone))), source.id)
    merge(uow, target, source)
    with pytest.raises(DuplicateContact) as excinfo:
        create(uow, first_name="Autre", emails=[{"address": "s@x.fr"}])
    assert excinfo.value.extra["existing_contact_id"] == target.id


# 4. notes and files move from the event store, not from the read model

def test_notes_and_files_the_read_model_does_not_show_yet_follow_the_merge(uow, files):
    target, source = create(uow, first_name="T"), create(uow, first_name="S")
    note = note_handlers.add_note(commands.AddNote("acct-1", source.id, "note", "Rappeler lundi"), uow)
    attachment = attachment_handlers.add_attachment(
        commands.AddAttachment("acct-1", source.id, "devis.pdf", "application/pdf", PDF, 10**6), uow)
    merge(uow, target, source, notes={})  # the read models have not projected them yet
    assert note_handlers.edit_note(commands.EditNote("acct-1", target.id, note.id, note.revision + 1, None, "Rappelé"),
                                   uow).contact_id == target.id
    moved = attachment_handlers.get_attachment("acct-1", target.id, attachment.id, uow)
    assert b"".join(attachment_handlers.open_attachment("acct-1", target.id, moved.id, uow)[2]) == PDF


def test_a_note_added_while_its_contact_is_merged_follows_it(store, uow, other_uow):
    target, source = create(uow, first_name="T"), create(uow, first_name="S")
    # the note's request found its contact live, then the whole merge ran before the note was filed
    store.after("NoteAdded", lambda: merge(other_uow, target, source))
    note = note_handlers.add_note(commands.AddNote("acct-1", source.id, "note", "Rappeler lundi"), uow)
    with uow:
        assert uow.notes.get("acct-1", note.id).contact_id == target.id
    assert live(uow, source.id) is None


def test_a_file_added_while_its_contact_is_merged_follows_it(store, uow, other_uow):
    target, source = create(uow, first_name="T"), create(uow, first_name="S")
    store.after("AttachmentAdded", lambda: merge(other_uow, target, source))
    attachment = attachment_handlers.add_attachment(
        commands.AddAttachment("acct-1", source.id, "devis.pdf", "application/pdf", PDF, 10**6), uow)
    moved = attachment_handlers.get_attachment("acct-1", target.id, attachment.id, uow)
    assert b"".join(attachment_handlers.open_attachment("acct-1", target.id, moved.id, uow)[2]) == PDF


# 5. the same merge twice changes nothing the second time

def test_the_same_merge_twice_changes_nothing_the_second_time(store, uow):
    target = create(uow, first_name="T")
    source = create(uow, first_name="S", emails=[{"address": "s@x.fr"}])
    note_handlers.add_note(commands.AddNote("acct-1", source.id, "note", "Rappeler lundi"), uow)
    merge(uow, target, source)
    stored, owners = list(store.all_events), dict(uow.claims.owners)
    assert merge(uow, target, source).revision == live(uow, target.id).revision
    assert list(store.all_events) == stored and uow.claims.owners == owners


def test_a_merge_retried_after_its_first_step_takes_the_sources_in_only_once(store, uow):
    target = create(uow, first_name="T")
    source = create(uow, first_name="S", emails=[{"address": "s@x.fr"}])
    with uow:  # the process stopped after the target took the source in
        t = uow.contacts.get("acct-1", target.id)
        t.absorb([uow.contacts.get("acct-1", source.id)])
        uow.commit()
    merge(uow, target, source)
    assert len(events_of(store, target.id, "ContactsMerged")) == 1
    assert live(uow, source.id) is None


def test_a_note_an_import_brought_follows_the_merge_without_the_read_model(uow):
    target, source = create(uow, first_name="T"), create(uow, first_name="S")
    cmd = commands.AddImportedNote("acct-1", source.id, "import-1", 2, "Rencontrée au salon")
    assert note_handlers.add_imported_note(cmd, uow) is True
    merge(uow, target, source, notes={})
    with uow:
        assert uow.notes.get("acct-1", note_handlers.imported_note_id(cmd)).contact_id == target.id
