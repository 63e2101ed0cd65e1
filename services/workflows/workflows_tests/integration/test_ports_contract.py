"""One suite for each port, run on the fake unit tests use and on the MongoDB adapter, so the fakes stay honest."""
from datetime import datetime, timezone

import pytest

from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from workflows.adapters.mongo_cards_index import MongoCardsIndex
from workflows.domain.commands import CreateBoard, CreateCard, MoveCard, WinCard
from workflows.domain.task_commands import CreateTask, DeleteTask
from workflows.service_layer import dispatch
from workflows.service_layer.unit_of_work import UnitOfWork

from ..unit.fakes import (ForgottenTimelines, InMemoryCardsIndex, InMemoryContactsDirectory, InMemoryDueReminders,
                         InMemoryTasksIndex)
from .conftest import project_all


class World:
    """A bus whose handlers write cards, and the CardsIndex that reads them back (after `sync`)."""

    def __init__(self, kind: str, container=None) -> None:
        self.container = container
        if kind == "fake":
            store, cipher = InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore())
            self.index, self.contacts = InMemoryCardsIndex(store, UnitOfWork.event_codec(cipher)), InMemoryContactsDirectory()
            self.unit_of_work = lambda: UnitOfWork(store, cipher)
            self.tasks = InMemoryTasksIndex(store, UnitOfWork.event_codec(cipher))
            self.reminders = InMemoryDueReminders(store, UnitOfWork.event_codec(cipher))
        else:
            self.tasks = container.tasks_index
            self.reminders = container.due_reminders
            self.index = MongoCardsIndex(container.cards_projection.collection)
            self.contacts = container.contacts_directory
            self.unit_of_work = container.unit_of_work
        self.bus = MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
            "uow": Fresh(self.unit_of_work), "cards": self.index, "contacts": self.contacts, "tasks": self.tasks,
            "timeline": ForgottenTimelines() if container is None else container.timeline,
            "timeline_follower": ForgottenTimelines() if container is None else container.timeline_follower,
            "clock": lambda: "2026-12-01T10:00:00+00:00"})

    def sync(self) -> None:
        if self.container is not None:
            project_all(self.container)


@pytest.fixture(params=["fake", "mongo"])
def world(request):
    if request.param == "fake":
        return World("fake")
    return World("mongo", request.getfixturevalue("container"))


def new_card_at_the_end(world, board_id, stage_id, title, **fields):
    world.sync()  # a new card goes after the last one the read model shows (else they share its key)
    return world.bus.handle(CreateCard("acct-1", board_id, stage_id, title, "contact:1", **fields))


def test_a_stage_reads_in_order_with_its_neighbours_and_leaves_out_closed_cards(world):
    for contact_id in ("contact:1", "contact:2"):
        world.contacts.record_existing("acct-1", contact_id)
    board = world.bus.handle(CreateBoard("acct-1", "B", ("A", "B"), "Gagné", "Perdu"))
    a, b = (stage["id"] for stage in board.stages)
    first, second, third = (new_card_at_the_end(world, board.id, a, f"C{i}",
                                                 other_contact_ids=("contact:2",) if i == 2 else ())
                            for i in range(3))
    world.sync()
    world.bus.handle(MoveCard("acct-1", third.id, 1, a, before=first.id))
    world.bus.handle(WinCard("acct-1", second.id))
    world.sync()
    index = world.index
    assert index.ordered_ids("acct-1", a) == [third.id, first.id] and index.ordered_ids("acct-2", a) == []
    assert index.last_position("acct-1", a) == first.position
    assert index.last_position("acct-1", a, excluding=first.id) == index.position_before("acct-1", a, first.position,
                                                                                          first.id, "x")
    assert index.position_after("acct-1", a, index.last_position("acct-1", a, excluding=first.id), third.id,
                                "x") == first.position
    assert index.position_after("acct-1", a, first.position, first.id, "x") is None
    assert index.last_position("acct-1", b) is None
    assert sorted(index.of_contact("acct-1", "contact:1")) == sorted([first.id, second.id, third.id])
    assert index.of_contact("acct-1", "contact:2") == [third.id] and index.of_contact("acct-2", "contact:1") == []


def test_cards_sharing_a_key_are_neighbours_in_id_order_and_a_move_after_one_lands_right_after_it(world):
    from workflows.domain.cards import Card

    world.contacts.record_existing("acct-1", "contact:1")
    board = world.bus.handle(CreateBoard("acct-1", "B", ("A",), "Gagné", "Perdu"))
    a = board.stages[0]["id"]
    start, twin, end, mover = (new_card_at_the_end(world, board.id, a, f"C{i}") for i in range(4))
    with world.unit_of_work() as uow:  # a tie, as concurrent moves into one gap can leave
        tied = Card.create("acct-1", board.id, a, twin.position, "2026-12-01T10:00:00+00:00", title="T",
                           description="", contact_id="contact:1", other_contact_ids=[])
        uow.cards.add(tied)
        uow.commit()
    world.sync()
    low, high = sorted([twin.id, tied.id])
    assert world.index.ordered_ids("acct-1", a) == [start.id, low, high, end.id, mover.id]
    index, key = world.index, twin.position
    assert index.position_after("acct-1", a, key, low, "x") == key  # its twin, not the card after both
    assert index.position_after("acct-1", a, key, high, "x") == end.position
    assert index.position_before("acct-1", a, key, high, "x") == key
    assert index.position_before("acct-1", a, key, low, "x") == start.position
    world.bus.handle(MoveCard("acct-1", mover.id, 1, a, after=low))
    world.sync()
    assert world.index.ordered_ids("acct-1", a) == [start.id, low, mover.id, high, end.id]


def test_the_contacts_directory_keeps_a_gone_contact_gone_whatever_comes_after(world):
    contacts = world.contacts
    contacts.record_existing("acct-1", "contact:1")
    contacts.record_existing("acct-1", "contact:2")
    contacts.record_gone("acct-1", "contact:2")
    contacts.record_existing("acct-1", "contact:2")
    contacts.record_gone("acct-1", "contact:3")
    contacts.record_existing("acct-1", "contact:3")
    assert contacts.unknown("acct-1", ["contact:1", "contact:2", "contact:3", "contact:4"]) == {
        "contact:2", "contact:3", "contact:4"}
    assert contacts.unknown("acct-2", ["contact:1"]) == {"contact:1"}


def test_one_account_s_news_of_a_contact_id_never_changes_another_account_s_contact(world):
    contacts = world.contacts
    contacts.record_existing("acct-1", "contact:1")
    contacts.record_gone("acct-2", "contact:1")  # the same id told of by another account: not the same contact
    contacts.record_existing("acct-2", "contact:1")
    assert contacts.unknown("acct-1", ["contact:1"]) == set()
    assert contacts.unknown("acct-2", ["contact:1"]) == {"contact:1"}


def test_a_merge_family_is_every_contact_merged_with_the_requested_ones_in_their_account_only(world):
    contacts = world.contacts
    for contact_id in ("contact:1", "contact:2", "contact:3", "contact:4", "contact:9"):
        contacts.record_existing("acct-1", contact_id)
    contacts.record_merged("acct-1", "contact:2", "contact:1")  # 2 and 3 into 1, then 1 into 4
    contacts.record_merged("acct-1", "contact:3", "contact:1")
    contacts.record_merged("acct-1", "contact:1", "contact:4")
    contacts.record_merged("acct-1", "contact:7", "contact:8")  # heard of only through the merge
    contacts.record_merged("acct-2", "contact:5", "contact:3")  # another account's news: not this family
    assert sorted(contacts.merge_family("acct-1", ["contact:2"])) == ["contact:1", "contact:2", "contact:3",
                                                                      "contact:4"]
    assert contacts.merge_family("acct-1", ["contact:2"])[0] == "contact:2"  # the requested ones first
    assert sorted(contacts.merge_family("acct-1", ["contact:8", "contact:9", "contact:6"])) == [
        "contact:7", "contact:8", "contact:9"]
    assert contacts.merge_family("acct-2", ["contact:1"]) == []
    assert sorted(contacts.merge_family("acct-2", ["contact:5"])) == ["contact:3", "contact:5"]
    assert contacts.unknown("acct-1", ["contact:2", "contact:4"]) == {"contact:2"}  # merged away: gone


def test_a_merged_contact_s_survivor_is_followed_through_later_merges_in_its_account_only(world):
    contacts = world.contacts
    contacts.record_existing("acct-1", "contact:1")
    contacts.record_merged("acct-1", "contact:2", "contact:1")  # 2 into 1, then 1 into 4
    contacts.record_merged("acct-1", "contact:1", "contact:4")
    contacts.record_merged("acct-2", "contact:5", "contact:3")
    assert contacts.survivor("acct-1", "contact:2") == "contact:4"
    assert contacts.survivor("acct-1", "contact:4") == "contact:4"  # not merged: itself
    assert contacts.survivor("acct-1", "contact:9") == "contact:9"  # never heard of: itself
    assert contacts.survivor("acct-2", "contact:2") == "contact:2"  # another account's: not followed


def test_tasks_of_a_contact_are_those_about_them_linked_or_through_a_card_deleted_or_not(world):
    world.contacts.record_existing("acct-1", "contact:1")
    world.contacts.record_existing("acct-2", "contact:9")
    board = world.bus.handle(CreateBoard("acct-1", "B", ("A",), "W", "L"))
    card = world.bus.handle(CreateCard("acct-1", board.id, None, "t", "contact:1"))
    due = datetime(2026, 12, 24, 9, tzinfo=timezone.utc)
    linked = world.bus.handle(CreateTask("acct-1", "a", due, link_kind="contact", link_id="contact:1"))
    through_card = world.bus.handle(CreateTask("acct-1", "b", due, link_kind="card", link_id=card.id))
    world.bus.handle(DeleteTask("acct-1", through_card.id))
    world.bus.handle(CreateTask("acct-1", "c", due))
    world.bus.handle(CreateTask("acct-2", "d", due, link_kind="contact", link_id="contact:9"))
    world.sync()
    assert sorted(world.tasks.of_contact("acct-1", "contact:1")) == sorted([linked.id, through_card.id])
    assert world.tasks.of_contact("acct-1", "contact:9") == [] and world.tasks.of_contact("acct-2", "contact:1") == []


def test_a_reminder_put_off_is_not_due_before_then_and_counts_its_failures(world):
    world.bus.handle(CreateTask("acct-1", "a", datetime(2026, 12, 24, 9, tzinfo=timezone.utc), reminders=("PT1H",)))
    world.sync()
    [reminder] = world.reminders.due("2026-12-24T08:00:00+00:00", 10)
    assert reminder.failures == 0
    world.reminders.put_off(reminder.id, "2026-12-24T08:10:00+00:00")
    assert world.reminders.due("2026-12-24T08:09:59+00:00", 10) == []
    [again] = world.reminders.due("2026-12-24T08:10:00+00:00", 10)
    assert (again.id, again.failures) == (reminder.id, 1)
    world.reminders.put_off(reminder.id, "2026-12-24T08:30:00+00:00")
    assert world.reminders.due("2026-12-24T08:30:00+00:00", 10)[0].failures == 2
    world.reminders.mark_handled(reminder.id)
    assert world.reminders.due("2026-12-25T00:00:00+00:00", 10) == []
