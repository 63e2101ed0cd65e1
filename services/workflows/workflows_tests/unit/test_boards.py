"""Boards through the real handlers and bus, on the in-memory event store (issue 12)."""
import pytest

from crm_platform.contracts.accounts import AccountCreated
from crm_platform.errors import Conflict, InvalidInput

from workflows.domain.boards import BoardNotFound, StageNotFound, default_board_id
from workflows.domain.commands import (AddStage, ChangeStage, CreateBoard, CreateCard, RemoveStage, RenameBoard,
                                       ReorderStages)
from workflows.service_layer.unit_of_work import UnitOfWork


def new_board(bus, account="acct-1", stages=("A", "B", "C")):
    return bus.handle(CreateBoard(account, "Projets", stages, "Signé", "Abandonné"))


def test_a_new_account_gets_one_default_board_however_often_the_event_comes(bus, store):
    for _ in range(3):
        bus.handle(AccountCreated("acct-9", "Agence Dupont"))
    [envelope] = store.all_events
    assert envelope.aggregate_id == default_board_id("acct-9") and envelope.event_type == "BoardCreated"
    assert [s["name"] for s in envelope.payload["stages"]] == ["Nouveau", "Contacté", "Proposition", "Négociation"]
    assert (envelope.payload["name"], envelope.payload["won_label"], envelope.payload["lost_label"]) == (
        "Pipeline commercial", "Gagné", "Perdu")


def test_the_default_board_is_editable_and_stays_one_after_another_delivery(bus, store):
    bus.handle(AccountCreated("acct-9", "Agence Dupont"))
    board = bus.handle(RenameBoard("acct-9", default_board_id("acct-9"), name="Ventes"))
    bus.handle(AccountCreated("acct-9", "Agence Dupont"))
    assert board.name == "Ventes" and len(store.all_events) == 2


def test_stages_are_added_renamed_reordered_and_removed(bus):
    board = new_board(bus)
    a, b, c = (s["id"] for s in board.stages)
    board = bus.handle(AddStage("acct-1", board.id, "Relance", stale_after_days=7, index=1))
    added = board.stages[1]["id"]
    assert [s["name"] for s in board.stages] == ["A", "Relance", "B", "C"] and board.stages[1]["stale_after_days"] == 7
    board = bus.handle(ChangeStage("acct-1", board.id, b, name="  Bis  "))
    board = bus.handle(ReorderStages("acct-1", board.id, (c, b, added, a)))
    assert [s["name"] for s in board.stages] == ["C", "Bis", "Relance", "A"]
    board = bus.handle(RemoveStage("acct-1", board.id, added))
    assert [s["id"] for s in board.stages] == [c, b, a] and board.revision == 5


def test_a_reorder_must_name_every_stage_once(bus):
    board = new_board(bus)
    with pytest.raises(InvalidInput) as refused:
        bus.handle(ReorderStages("acct-1", board.id, (board.stages[0]["id"],)))
    assert "stage_ids" in refused.value.errors


def test_removing_a_stage_holding_cards_needs_where_to_move_them_and_moves_them_after_the_others(bus, cards_index):
    board = new_board(bus)
    a, b, _ = (s["id"] for s in board.stages)
    in_a = [bus.handle(CreateCard("acct-1", board.id, a, f"Carte {i}", "contact:1")) for i in range(3)]
    in_b = bus.handle(CreateCard("acct-1", board.id, b, "Déjà là", "contact:1"))
    with pytest.raises(InvalidInput) as refused:
        bus.handle(RemoveStage("acct-1", board.id, a))
    assert "move_cards_to" in refused.value.errors
    with pytest.raises(InvalidInput):
        bus.handle(RemoveStage("acct-1", board.id, a, move_cards_to=a))
    bus.handle(RemoveStage("acct-1", board.id, a, move_cards_to=b))
    assert cards_index.ordered_ids("acct-1", b) == [in_b.id, *(card.id for card in in_a)]
    assert cards_index.ordered_ids("acct-1", a) == []


def test_the_last_stage_stays_and_unknown_stages_and_boards_are_404(bus):
    board = new_board(bus, stages=("Seule",))
    with pytest.raises(Conflict):
        bus.handle(RemoveStage("acct-1", board.id, board.stages[0]["id"]))
    with pytest.raises(StageNotFound):
        bus.handle(ChangeStage("acct-1", board.id, "stage:nope", name="x"))
    with pytest.raises(BoardNotFound):
        bus.handle(RenameBoard("acct-2", board.id, name="x"))


def test_blank_names_are_refused_naming_the_field(bus):
    with pytest.raises(InvalidInput) as refused:
        bus.handle(CreateBoard("acct-1", "  ", ("A",), "Gagné", "Perdu"))
    assert "name" in refused.value.errors
    board = new_board(bus)
    with pytest.raises(InvalidInput) as refused:
        bus.handle(RenameBoard("acct-1", board.id, lost_label=""))
    assert "lost_label" in refused.value.errors



def test_cards_the_read_model_missed_when_their_stage_was_removed_follow_when_the_event_comes_back(
        bus, store, cipher, cards_index):
    board = new_board(bus)
    a, b, c = (s["id"] for s in board.stages)
    bus.handle(CreateCard("acct-1", board.id, b, "Déjà là", "contact:1"))
    bus.handle(RemoveStage("acct-1", board.id, a, move_cards_to=b))
    late = bus.handle(CreateCard("acct-1", board.id, c, "Arrivée tard", "contact:1"))
    with UnitOfWork(store, cipher) as uow:  # as if created in `a` while it was being removed
        uow.cards.get("acct-1", late.id).move(a, "5", "2026-12-01T10:00:00+00:00")
        uow.commit()
    removed = next(e for e in store.all_events if e.event_type == "StageRemoved")
    for _ in range(2):  # delivered twice: moved once
        bus.handle(UnitOfWork.event_codec().from_envelope(removed))
    assert cards_index.ordered_ids("acct-1", a) == [] and cards_index.ordered_ids("acct-1", b)[-1] == late.id
    assert [e.event_type for e in store.all_events if e.aggregate_id == late.id] == [
        "CardCreated", "CardMoved", "CardMoved"]


def test_cards_of_a_removed_stage_get_keys_within_the_limit_after_a_long_last_key(bus, store, cipher, cards_index):
    from workflows.domain.cards import Card
    from workflows.domain.positions import MAX_KEY_LENGTH
    from workflows.service_layer.placing import MAX_CARDS_RESPACED

    board = new_board(bus)
    a, b = board.stages[0]["id"], board.stages[1]["id"]
    moving = [bus.handle(CreateCard("acct-1", board.id, a, f"A{i}", "contact:1")).id for i in range(40)]
    staying = [bus.handle(CreateCard("acct-1", board.id, b, f"B{i}", "contact:1")).id for i in range(30)]
    with UnitOfWork(store, cipher) as uow:  # a last card whose key reached the limit at the very end of the keys
        last = Card.create("acct-1", board.id, b, "z" * MAX_KEY_LENGTH, "2026-12-01T10:00:00+00:00", title="Z",
                           description="", contact_id="contact:1", other_contact_ids=[])
        uow.cards.add(last)
        uow.commit()
    written = len(store.all_events)
    bus.handle(RemoveStage("acct-1", board.id, a, move_cards_to=b))
    assert cards_index.ordered_ids("acct-1", b) == [*staying, last.id, *moving]
    assert max(len(p) for p, _ in cards_index._stage("acct-1", b)) <= MAX_KEY_LENGTH
    assert len(store.all_events) - written <= 1 + len(moving) + MAX_CARDS_RESPACED  # the board, the cards, a few others
