"""Cards and tasks about a contact whose processing is restricted (Art. 18, issue 13), through the real handlers:
every change is refused naming the contact until the restriction is lifted; those of others go on."""
from datetime import datetime

import pytest

from crm_platform.processing_restrictions import ProcessingRestricted

from workflows.domain.commands import ArchiveCard, CreateBoard, CreateCard, LoseCard, MoveCard, WinCard
from workflows.domain.task_commands import (CompleteTask, CreateTask, DeleteTask, ReopenTask, RescheduleTask,
                                            UpdateTask)

DUE = datetime.fromisoformat("2026-12-24T09:00:00+01:00")
REQUEST = "privacy-request:r18"


@pytest.fixture
def board(bus):
    return bus.handle(CreateBoard("acct-1", "B", ("A", "B"), "W", "L"))


def refused(bus, command) -> bool:
    try:
        bus.handle(command)
    except ProcessingRestricted as exc:
        return exc.extra == {"contact_ids": ["contact:1"]}
    return False


@pytest.mark.parametrize("change", [
    lambda card, board: MoveCard("acct-1", card.id, card.revision, board.stages[1]["id"]),
    lambda card, board: WinCard("acct-1", card.id),
    lambda card, board: LoseCard("acct-1", card.id, "prix"),
    lambda card, board: ArchiveCard("acct-1", card.id),
], ids=["move", "win", "lose", "archive"])
def test_a_card_naming_a_restricted_contact_is_neither_moved_won_lost_nor_archived(bus, board, restrictions,
                                                                                  change):
    theirs = bus.handle(CreateCard("acct-1", board.id, None, "Devis", "contact:1"))
    shared = bus.handle(CreateCard("acct-1", board.id, None, "Site", "contact:2", other_contact_ids=("contact:1",)))
    others = bus.handle(CreateCard("acct-1", board.id, None, "Audit", "contact:2"))
    restrictions.restrict("acct-1", ["contact:1"], REQUEST)

    assert refused(bus, change(theirs, board)) and refused(bus, change(shared, board))
    assert bus.handle(change(others, board)).revision == 2
    restrictions.lift("acct-1", ["contact:1"], REQUEST)
    assert bus.handle(change(theirs, board)).revision == 2


def test_a_task_about_a_restricted_contact_is_neither_created_nor_changed(bus, board, restrictions):
    card = bus.handle(CreateCard("acct-1", board.id, None, "Devis", "contact:1"))
    task = bus.handle(CreateTask("acct-1", "Rappeler", DUE, link_kind="contact", link_id="contact:1"))
    other = bus.handle(CreateTask("acct-1", "Relancer", DUE, link_kind="contact", link_id="contact:2"))
    restrictions.restrict("acct-1", ["contact:1"], REQUEST)

    assert refused(bus, CreateTask("acct-1", "x", DUE, link_kind="contact", link_id="contact:1"))
    assert refused(bus, CreateTask("acct-1", "x", DUE, link_kind="card", link_id=card.id))
    for change in (UpdateTask("acct-1", task.id, None, {"title": "x"}), RescheduleTask("acct-1", task.id, None, DUE),
                   CompleteTask("acct-1", task.id), ReopenTask("acct-1", task.id), DeleteTask("acct-1", task.id)):
        assert refused(bus, change), change
    assert refused(bus, UpdateTask("acct-1", other.id, None, {"link_kind": "contact", "link_id": "contact:1"}))
    assert bus.handle(UpdateTask("acct-1", other.id, None, {"title": "y"})).revision == 2

    restrictions.lift("acct-1", ["contact:1"], REQUEST)
    assert bus.handle(UpdateTask("acct-1", task.id, None, {"title": "x"})).revision == 2
