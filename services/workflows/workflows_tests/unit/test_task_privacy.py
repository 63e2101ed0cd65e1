"""Tasks when contacts merge, go or are erased, and in privacy requests (issue 12, issue 13)."""
from datetime import datetime

from crm_platform.contracts.contacts import ContactDeletedFact, ContactErasedFact, ContactsMergedFact
from crm_platform.contracts.privacy import ErasureRequested, SubjectExportRequested

from workflows.domain.commands import CreateBoard, CreateCard
from workflows.domain.task_commands import CreateTask
from workflows.service_layer.unit_of_work import UnitOfWork

DUE = datetime.fromisoformat("2026-12-24T09:00:00+01:00")


def task_about(bus, contact_id, title="Rappeler Louise", **fields):
    return bus.handle(CreateTask("acct-1", title, DUE, notes="au 06 12 34 56 78", link_kind="contact",
                                 link_id=contact_id, reminders=("P1D",), **fields))


def load(store, cipher, task_id):
    with UnitOfWork(store, cipher) as uow:
        return uow.tasks.find("acct-1", task_id)


def test_a_merged_contacts_tasks_move_to_the_survivor_however_often_the_event_comes(bus, store, cipher):
    task = task_about(bus, "contact:2")
    for _ in range(2):
        bus.handle(ContactsMergedFact("contact:1", "acct-1", ["contact:2"]))
    moved = load(store, cipher, task.id)
    assert (moved.link_kind, moved.link_id, moved.contact_id, moved.revision) == ("contact", "contact:1",
                                                                                  "contact:1", 2)
    assert store.all_events[-1].payload["personal"]["subject"] == "workflows-subject:contact:1"


def test_a_deleted_contact_is_unlinked_and_a_card_link_stays(bus, store, cipher):
    board = bus.handle(CreateBoard("acct-1", "B", ("A",), "W", "L"))
    card = bus.handle(CreateCard("acct-1", board.id, None, "Site", "contact:2", other_contact_ids=("contact:3",)))
    linked = task_about(bus, "contact:2")
    through_card = bus.handle(CreateTask("acct-1", "Devis", DUE, link_kind="card", link_id=card.id))
    bus.handle(ContactDeletedFact("contact:2", "acct-1"))
    unlinked = load(store, cipher, linked.id)
    assert (unlinked.link_kind, unlinked.contact_id, unlinked.title) == (None, None, "Rappeler Louise")
    kept = load(store, cipher, through_card.id)
    assert (kept.link_kind, kept.link_id, kept.contact_id) == ("card", card.id, None)
    assert len(unlinked.pending_reminders()) == 1  # still a task to do


def test_an_erased_contacts_tasks_are_blanked_unlinked_and_their_key_shredded(bus, store, cipher):
    task = task_about(bus, "contact:2")
    bus.handle(ContactErasedFact("contact:2", "acct-1"))
    erased = load(store, cipher, task.id)
    assert (erased.title, erased.notes, erased.link_kind, erased.contact_id) == ("", "", None, None)
    assert cipher.is_erased("workflows-subject:contact:2")
    assert [e.event_type for e in store.all_events if e.aggregate_id == task.id] == [
        "TaskCreated", "TaskPersonalDataErased", "TaskUpdated"]


def test_an_export_lists_the_tasks_about_the_person_and_an_erasure_counts_them(
        bus, store, cipher, participant, exchange):
    task = task_about(bus, "contact:2", assignee="Marc")
    task_about(bus, "contact:3", title="Autre")
    part = participant.export(SubjectExportRequested("req-1", "acct-1", ["contact:2"], ["workflows"],
                                                     "2026-12-02T10:00:00+00:00"), exchange)
    data = exchange.read_part("req-1", part.part_blob_id)["data"]
    assert (part.item_count, data["cards"]) == (1, [])
    assert data["tasks"] == [{
        "task_id": task.id, "contact_id": "contact:2", "linked_to": "contact contact:2", "title": "Rappeler Louise",
        "notes": "au 06 12 34 56 78", "due_at": "2026-12-24T08:00:00+00:00", "time_zone": "Europe/Paris",
        "assignee": "Marc", "reminders": "P1D", "status": "open", "created_at": task.created_at, "completed_at": ""}]
    outcome = participant.erase(ErasureRequested("req-2", "acct-1", ["contact:2"], ["workflows"],
                                                 "2026-12-02T10:00:00+00:00"))
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == (
        "erased", ["workflows-subject:contact:2"], 1)
    assert load(store, cipher, task.id).title == ""
    again = participant.erase(ErasureRequested("req-3", "acct-1", ["contact:2"], ["workflows"],
                                               "2026-12-02T10:00:00+00:00"))
    assert again.outcome == "nothing_held"
