"""Cards through the real handlers and bus, on the in-memory event store (issue 12)."""
import pytest

from crm_platform.contracts.workflows import WORKFLOWS_EVENTS
from crm_platform.errors import Conflict, InvalidInput, StaleRevision

from workflows.domain.cards import CardNotFound
from workflows.domain.commands import (AddStage, ArchiveCard, CreateBoard, CreateCard, EditCard, LoseCard, MoveCard,
                                       RemoveStage, RenameBoard, WinCard)


@pytest.fixture
def board(bus):
    return bus.handle(CreateBoard("acct-1", "Projets", ("A", "B", "C"), "Signé", "Abandonné"))


def stage(board, index):
    return board.stages[index]["id"]


def test_a_card_is_stored_with_its_title_and_description_sealed_under_its_contact(bus, store, board):
    card = bus.handle(CreateCard("acct-1", board.id, None, "Site de  Louise", "contact:1",
                                 description="Refonte pour Louise Desnotes", other_contact_ids=("contact:2",),
                                 value="1500.50", currency="EUR", due_on="2026-12-24", linked_document="quote:7"))
    envelope = store.all_events[-1]
    assert card.title == "Site de Louise" and card.stage_id == stage(board, 0) and card.status == "open"
    assert envelope.payload["personal"]["subject"] == "workflows-subject:contact:1"
    assert "Louise" not in str(envelope.payload) and envelope.payload["value"] == "1500.50"


def test_contacts_must_exist_in_the_account_and_are_named_when_they_do_not(bus, board):
    with pytest.raises(InvalidInput) as refused:
        bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:nope", other_contact_ids=("contact:2", "c:9")))
    assert set(refused.value.errors) == {"contact_id", "other_contact_ids"}
    with pytest.raises(InvalidInput) as refused:
        bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:1",
                              other_contact_ids=tuple(f"contact:{i}" for i in range(20))))
    assert "other_contact_ids" in refused.value.errors


def test_at_most_ten_other_contacts(bus, board, contacts):
    for i in range(4, 20):
        contacts.record_existing("acct-1", f"contact:{i}")
    card = bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:1",
                                 other_contact_ids=tuple(f"contact:{i}" for i in range(4, 14))))
    assert len(card.other_contact_ids) == 10
    with pytest.raises(InvalidInput) as refused:
        bus.handle(EditCard("acct-1", card.id, 1, {"other_contact_ids": [f"contact:{i}" for i in range(4, 15)]}))
    assert "other_contact_ids" in refused.value.errors


def test_a_value_needs_its_currency_and_the_board_and_stage_must_exist(bus, board):
    with pytest.raises(InvalidInput) as refused:
        bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:1", value="10"))
    assert "currency" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        bus.handle(CreateCard("acct-1", "board:nope", None, "x", "contact:1"))
    assert "board_id" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        bus.handle(CreateCard("acct-1", board.id, "stage:nope", "x", "contact:1"))
    assert "stage_id" in refused.value.errors


def test_new_cards_go_to_the_end_and_a_move_writes_only_the_card_that_moves(bus, store, board, cards_index):
    a, b = stage(board, 0), stage(board, 1)
    first, second, third = (bus.handle(CreateCard("acct-1", board.id, a, f"C{i}", "contact:1")) for i in range(3))
    assert cards_index.ordered_ids("acct-1", a) == [first.id, second.id, third.id]
    written = len(store.all_events)
    moved = bus.handle(MoveCard("acct-1", third.id, 1, a, after=first.id, before=second.id))
    assert cards_index.ordered_ids("acct-1", a) == [first.id, third.id, second.id]
    assert len(store.all_events) == written + 1 and moved.revision == 2
    bus.handle(MoveCard("acct-1", first.id, 1, b))
    bus.handle(MoveCard("acct-1", second.id, 1, b, before=first.id))
    assert cards_index.ordered_ids("acct-1", b) == [second.id, first.id]
    assert cards_index.ordered_ids("acct-1", a) == [third.id]


def test_a_stale_move_is_refused(bus, board):
    card = bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:1"))
    bus.handle(MoveCard("acct-1", card.id, 1, stage(board, 1)))
    with pytest.raises(StaleRevision):
        bus.handle(MoveCard("acct-1", card.id, 1, stage(board, 2)))


def test_neighbours_must_be_open_cards_of_the_target_stage(bus, board):
    card, other = (bus.handle(CreateCard("acct-1", board.id, None, f"C{i}", "contact:1")) for i in range(2))
    with pytest.raises(InvalidInput) as refused:
        bus.handle(MoveCard("acct-1", card.id, 1, stage(board, 1), after=other.id))
    assert "after" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        bus.handle(MoveCard("acct-1", card.id, 1, "stage:nope"))
    assert "stage_id" in refused.value.errors


def test_won_lost_and_archived(bus, board):
    won, lost = (bus.handle(CreateCard("acct-1", board.id, None, f"C{i}", "contact:1")) for i in range(2))
    assert bus.handle(WinCard("acct-1", won.id)).status == "won"
    assert bus.handle(WinCard("acct-1", won.id)).revision == 2  # again: nothing new
    with pytest.raises(Conflict):
        bus.handle(LoseCard("acct-1", won.id, "trop cher"))
    with pytest.raises(Conflict):
        bus.handle(MoveCard("acct-1", won.id, 2, stage(board, 1)))
    lost = bus.handle(LoseCard("acct-1", lost.id, "Parti chez un concurrent"))
    assert (lost.status, lost.lost_reason) == ("lost", "Parti chez un concurrent")
    assert bus.handle(ArchiveCard("acct-1", lost.id, revision=2)).status == "archived"


def test_edits_change_only_what_is_given_and_another_account_cannot_see_the_card(bus, board):
    card = bus.handle(CreateCard("acct-1", board.id, None, "x", "contact:1", value="10.00", currency="EUR"))
    edited = bus.handle(EditCard("acct-1", card.id, 1, {"title": "Nouveau titre", "contact_id": "contact:2",
                                                          "other_contact_ids": ["contact:1", "contact:2"]}))
    assert (edited.title, edited.contact_id, edited.other_contact_ids, edited.value) == (
        "Nouveau titre", "contact:2", ["contact:1"], "10.00")
    assert bus.handle(EditCard("acct-1", card.id, 2, {"title": "Nouveau titre"})).revision == 2
    with pytest.raises(CardNotFound):
        bus.handle(EditCard("acct-2", card.id, 2, {"title": "y"}))


def test_what_it_publishes_is_its_contract(bus, store, board):
    bus.handle(RenameBoard("acct-1", board.id, name="Ventes"))
    board = bus.handle(AddStage("acct-1", board.id, "D"))
    card, other = (bus.handle(CreateCard("acct-1", board.id, None, f"C{i}", "contact:1")) for i in range(2))
    bus.handle(EditCard("acct-1", card.id, 1, {"description": "d"}))
    bus.handle(MoveCard("acct-1", card.id, 2, stage(board, 1)))
    bus.handle(WinCard("acct-1", card.id))
    bus.handle(LoseCard("acct-1", other.id, "x"))
    bus.handle(ArchiveCard("acct-1", other.id))
    bus.handle(RemoveStage("acct-1", board.id, stage(board, 3)))
    for envelope in store.all_events:
        contract = WORKFLOWS_EVENTS.contract(envelope.event_type)
        assert contract is not None and envelope.schema_version == contract.version, envelope.event_type
        assert contract.validate(envelope.payload) == {}, envelope.event_type


def test_cards_created_faster_than_the_read_model_shows_them_tie_and_the_next_move_between_them_rebalances(
        store, cipher, contacts, cards_index):
    from crm_platform.message_bus import Fresh, MessageBus

    from workflows.service_layer import dispatch
    from workflows.service_layer.unit_of_work import UnitOfWork

    from .fakes import ForgottenTimelines, InMemoryTasksIndex

    class Lagging(type(cards_index)):
        def last_position(self, account_id, stage_id, excluding=None):
            return None  # the read model has not shown any card of the stage yet

    lagging = MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
        "uow": Fresh(lambda: UnitOfWork(store, cipher)), "cards": Lagging(store, UnitOfWork.event_codec(cipher)),
        "contacts": contacts, "timeline": ForgottenTimelines(), "timeline_follower": ForgottenTimelines(),
        "clock": lambda: "2026-12-01T10:00:00+00:00",
        "tasks": InMemoryTasksIndex(store, UnitOfWork.event_codec(cipher))})
    board = lagging.handle(CreateBoard("acct-1", "B", ("A",), "Gagné", "Perdu"))
    one, two, three = (lagging.handle(CreateCard("acct-1", board.id, None, f"C{i}", "contact:1")) for i in range(3))
    assert one.position == two.position == three.position  # a tie, ordered by id meanwhile
    tied = cards_index.ordered_ids("acct-1", stage(board, 0))
    lagging.handle(MoveCard("acct-1", tied[2], 1, stage(board, 0), after=tied[0], before=tied[1]))
    assert cards_index.ordered_ids("acct-1", stage(board, 0)) == [tied[0], tied[2], tied[1]]
    assert len({p for p, _ in cards_index._stage("acct-1", stage(board, 0))}) == 3
