"""A contact and its notes as they were at a moment (?as_of=, issue 14), replayed on the in-memory event store."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts.domain import commands
from contacts.domain.errors import ContactNotFound
from contacts.domain.notes import Note
from contacts.service_layer import handlers, label_handlers, merge_handlers, note_handlers
from contacts.service_layer.erasure import erase_contact
from contacts.service_layer.past_reads import contact_as_of, labels_as_of, notes_as_of
from contacts.service_layer.unit_of_work import UnitOfWork

ACCOUNT = "acct-1"
LOUISE = {"first_name": "Louise", "emails": [{"address": "louise@papier.fr"}]}
NO_LEGACY_NOTES = lambda *_: []  # noqa: E731 - every note here is filed in its contact's holdings


@pytest.fixture
def uow():
    return UnitOfWork(InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())


def now() -> datetime:
    """A moment strictly between the events recorded before and after it."""
    time.sleep(0.003)
    moment = datetime.now(timezone.utc)
    time.sleep(0.003)
    return moment


def create(uow, **details):
    return handlers.create_contact(commands.CreateContact(ACCOUNT, details or LOUISE), uow)


def test_a_later_change_is_not_visible_at_an_earlier_moment(uow):
    before_creation = now()
    louise = create(uow)
    created = now()
    label_handlers.create_label(commands.CreateLabel(ACCOUNT, "VIP", "vip"), uow)
    handlers.update_contact(commands.UpdateContact(ACCOUNT, louise.id, 1, {"last_name": "Martin"}), uow)
    label_handlers.assign_label(commands.AssignLabel(ACCOUNT, louise.id, "vip"), uow)
    changed = now()
    with pytest.raises(ContactNotFound):
        contact_as_of(uow, ACCOUNT, louise.id, before_creation)
    then = contact_as_of(uow, ACCOUNT, louise.id, created)
    assert then.details["first_name"] == "Louise" and "last_name" not in then.details
    assert then.details["labels"] == [] and then.revision == 1
    later = contact_as_of(uow, ACCOUNT, louise.id, changed)
    assert later.details["last_name"] == "Martin" and later.details["labels"] == ["vip"] and later.revision == 3
    assert datetime.fromisoformat(later.updated_at) <= changed  # its latest change by then, not a read time
    future = contact_as_of(uow, ACCOUNT, louise.id, datetime.now(timezone.utc) + timedelta(days=365))
    assert future.revision == 3  # a moment to come: the contact as it is now


def test_a_deleted_contact_reads_as_it_was_before_its_deletion(uow):
    louise = create(uow)
    alive = now()
    handlers.delete_contact(commands.DeleteContact(ACCOUNT, louise.id), uow)
    assert contact_as_of(uow, ACCOUNT, louise.id, alive).details["first_name"] == "Louise"
    with pytest.raises(ContactNotFound):
        contact_as_of(uow, ACCOUNT, louise.id, now())


def test_a_merged_away_contact_reads_as_it_was_before_the_merge(uow):
    louise, paul = create(uow), create(uow, first_name="Paul", emails=[{"address": "paul@papier.fr"}])
    before = now()
    merge_handlers.merge_contacts(commands.MergeContacts(ACCOUNT, louise.id, [paul.id]), uow,
                                  notes_of=NO_LEGACY_NOTES, attachment_ids_of=lambda *_: [])
    assert contact_as_of(uow, ACCOUNT, paul.id, before).details["first_name"] == "Paul"
    with pytest.raises(ContactNotFound) as after:
        contact_as_of(uow, ACCOUNT, paul.id, now())
    assert after.value.extra["merged_into"] == louise.id


def test_an_erased_person_is_unreadable_at_every_date(uow):
    louise = create(uow)
    alive = now()
    erase_contact(commands.EraseContact(ACCOUNT, louise.id), uow, attachment_ids_of=lambda *_: [],
                  notes_shown=lambda *_: [])
    for moment in (alive, now(), datetime.max.replace(tzinfo=timezone.utc)):
        with pytest.raises(ContactNotFound) as refused:
            contact_as_of(uow, ACCOUNT, louise.id, moment)
        assert "Louise" not in str(refused.value) and "merged_into" not in refused.value.extra
        with pytest.raises(ContactNotFound):
            notes_as_of(uow, ACCOUNT, louise.id, moment, NO_LEGACY_NOTES)


def test_an_erased_person_whose_key_is_not_shredded_yet_is_unreadable_too(uow):
    """Between ContactErased being recorded and the key shredded (a crash there), the events still open."""
    louise = create(uow)
    alive = now()
    with uow:
        contact = uow.contacts.get(ACCOUNT, louise.id)
        contact.erase()
        uow.commit()
    with pytest.raises(ContactNotFound):
        contact_as_of(uow, ACCOUNT, louise.id, alive)


def test_another_accounts_contact_is_not_found_at_any_moment(uow):
    louise = create(uow)
    with pytest.raises(ContactNotFound):
        contact_as_of(uow, "acct-2", louise.id, now())


def test_notes_as_they_were_added_before_not_yet_deleted_with_their_text_then(uow):
    louise = create(uow)
    first = note_handlers.add_note(commands.AddNote(ACCOUNT, louise.id, "note", "called"), uow)
    now()  # the second note is newer to the millisecond
    second = note_handlers.add_note(commands.AddNote(ACCOUNT, louise.id, "call_summary", "wants a quote"), uow)
    both = now()
    note_handlers.edit_note(commands.EditNote(ACCOUNT, louise.id, first.id, 1, text="called twice"), uow)
    note_handlers.delete_note(commands.DeleteNote(ACCOUNT, louise.id, second.id), uow)
    note_handlers.add_note(commands.AddNote(ACCOUNT, louise.id, "note", "later"), uow)
    then = notes_as_of(uow, ACCOUNT, louise.id, both, NO_LEGACY_NOTES)
    assert [(past.note.id, past.note.text, past.note.revision) for past in then] == \
        [(second.id, "wants a quote", 1), (first.id, "called", 1)]  # newest first
    assert all(past.updated_at <= both for past in then)
    assert [past.note.text for past in notes_as_of(uow, ACCOUNT, louise.id, now(), NO_LEGACY_NOTES)] == \
        ["later", "called twice"]


def test_notes_moved_by_a_merge_are_the_sources_before_it_and_the_targets_after(uow):
    louise, paul = create(uow), create(uow, first_name="Paul", emails=[{"address": "paul@papier.fr"}])
    note = note_handlers.add_note(commands.AddNote(ACCOUNT, paul.id, "note", "met at the fair"), uow)
    before = now()
    merge_handlers.merge_contacts(commands.MergeContacts(ACCOUNT, louise.id, [paul.id]), uow,
                                  notes_of=NO_LEGACY_NOTES, attachment_ids_of=lambda *_: [])
    after = now()
    assert [p.note.id for p in notes_as_of(uow, ACCOUNT, paul.id, before, NO_LEGACY_NOTES)] == [note.id]
    assert notes_as_of(uow, ACCOUNT, louise.id, before, NO_LEGACY_NOTES) == []
    assert [p.note.id for p in notes_as_of(uow, ACCOUNT, louise.id, after, NO_LEGACY_NOTES)] == [note.id]


def test_a_note_only_the_read_model_lists_is_read_from_its_events_too(uow):
    """Notes added before contacts had holdings are listed by the read model alone."""
    louise = create(uow)
    with uow:  # stored, never filed in the contact's holdings
        note = Note.add(ACCOUNT, louise.id, "note", "old note")
        uow.notes.add(note)
        uow.commit()
    moment = now()
    assert notes_as_of(uow, ACCOUNT, louise.id, moment, NO_LEGACY_NOTES) == []
    assert [p.note.text for p in notes_as_of(uow, ACCOUNT, louise.id, moment, lambda *_: [note.id])] == ["old note"]


def test_labels_as_they_were_live_then_with_their_names_then_in_the_order_then(uow):
    for name, key in (("VIP", "vip"), ("Lead", "lead"), ("Old", "old")):
        label_handlers.create_label(commands.CreateLabel(ACCOUNT, name, key), uow)
    label_handlers.reorder_labels(commands.ReorderLabels(ACCOUNT, ["vip"]), uow)
    then = now()
    label_handlers.rename_label(commands.RenameLabel(ACCOUNT, "vip", "Very important"), uow)
    label_handlers.delete_label(commands.DeleteLabel(ACCOUNT, "old"), uow)
    label_handlers.create_label(commands.CreateLabel(ACCOUNT, "New", "new"), uow)
    label_handlers.reorder_labels(commands.ReorderLabels(ACCOUNT, ["lead", "vip"]), uow)
    assert [(label.key, label.name) for label in labels_as_of(uow, ACCOUNT, then)] == \
        [("vip", "VIP"), ("lead", "Lead"), ("old", "Old")]
    assert [(label.key, label.name) for label in labels_as_of(uow, ACCOUNT, now())] == \
        [("lead", "Lead"), ("vip", "Very important"), ("new", "New")]
    assert labels_as_of(uow, "acct-2", now()) == []


class CountedKeys(InMemorySubjectKeyStore):
    """A key store that counts its reads (each a query on the real key vault)."""

    single_reads = bulk_reads = 0

    def find(self, subject):
        self.single_reads += 1
        return super().find(subject)

    def find_many(self, subjects):
        self.bulk_reads += 1
        found = {subject: InMemorySubjectKeyStore.find(self, subject) for subject in subjects}
        return {subject: key for subject, key in found.items() if key is not None}


def test_a_past_read_opens_a_contacts_events_and_notes_with_one_key_read_not_one_per_event():
    """Before: one key read per event opened (a contact of 50 changes and 100 notes: 2.6 s for its notes then)."""
    keys = CountedKeys()
    uow = UnitOfWork(InMemoryEventStore(), PersonalDataCipher(keys), InMemoryIdentityClaims())
    louise = create(uow)
    for revision in range(1, 6):
        handlers.update_contact(commands.UpdateContact(ACCOUNT, louise.id, revision, {"job_title": f"t{revision}"}),
                                uow)
    for n in range(5):
        note = note_handlers.add_note(commands.AddNote(ACCOUNT, louise.id, "note", f"note {n}"), uow)
        note_handlers.edit_note(commands.EditNote(ACCOUNT, louise.id, note.id, 1, text=f"note {n}, again"), uow)
    keys.single_reads = keys.bulk_reads = 0
    assert contact_as_of(uow, ACCOUNT, louise.id, now()).revision == 6
    assert (keys.single_reads, keys.bulk_reads) == (0, 1)  # the contact's key read once, not once per event
    assert len(notes_as_of(uow, ACCOUNT, louise.id, now(), NO_LEGACY_NOTES)) == 5
    assert (keys.single_reads, keys.bulk_reads) == (0, 3)  # once for the contact, once for its 5 notes' 10 events


class CountedLoads(InMemoryEventStore):
    """An event store that counts its single and bulk loads (on the real one: a query each, or overlapping ones)."""

    loads = bulk_loads = 0

    def load(self, aggregate_id):
        self.loads += 1
        return super().load(aggregate_id)

    def load_each(self, aggregate_ids):
        self.bulk_loads += 1
        return {aggregate_id: history for aggregate_id in dict.fromkeys(aggregate_ids)
                if (history := InMemoryEventStore.load(self, aggregate_id))}


def test_the_accounts_past_labels_are_read_in_one_bulk_load_not_one_load_per_label():
    store = CountedLoads()
    uow = UnitOfWork(store, PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryIdentityClaims())
    for n in range(5):
        label_handlers.create_label(commands.CreateLabel(ACCOUNT, f"Label {n}", f"label-{n}"), uow)
    label_handlers.reorder_labels(commands.ReorderLabels(ACCOUNT, ["label-3"]), uow)
    store.loads = store.bulk_loads = 0
    assert [label.key for label in labels_as_of(uow, ACCOUNT, now())][:2] == ["label-3", "label-0"]
    assert (store.loads, store.bulk_loads) == (1, 1)  # the order's history, and the 5 labels' (before: 6 loads)
