"""A move that respaces neighbours and fails part way (a crash, another writer) leaves a valid order and can be
retried (issue 12)."""
from unittest import mock

import pytest

from crm_platform.event_store import ConcurrencyConflict
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from workflows.domain.commands import CreateBoard, CreateCard, MoveCard
from workflows.service_layer import dispatch
from workflows.service_layer.unit_of_work import UnitOfWork

from .fakes import ForgottenTimelines, InMemoryCardsIndex, InMemoryContactsDirectory, InMemoryTasksIndex


class Crash(Exception):
    pass


class FailingStore(InMemoryEventStore):
    """Refuses its `fail_at`-th append from now on (1: the next), once, with `error`."""

    def __init__(self) -> None:
        super().__init__()
        self.countdown, self.error = None, None

    def fail_at(self, nth: int, error: Exception) -> None:
        self.countdown, self.error = nth, error

    def append(self, events):
        if self.countdown is not None:
            self.countdown -= 1
            if self.countdown == 0:
                self.countdown = None
                raise self.error
        super().append(events)


LIMIT = 5  # keys start at 2 characters: "to 2nd place" reaches 5 in a few moves


def column_near_its_limit(moves_made: int | None = None):
    """A column of 30 cards, after `moves_made` moves "to 2nd place" (default: just before the one that respaces
    the first cards), and that next move."""
    store, cipher, directory = FailingStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryContactsDirectory()
    directory.record_existing("acct-1", "contact:1")
    index = InMemoryCardsIndex(store, UnitOfWork.event_codec(cipher))
    bus = MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
        "uow": Fresh(lambda: UnitOfWork(store, cipher)), "cards": index, "contacts": directory,
        "timeline": ForgottenTimelines(), "timeline_follower": ForgottenTimelines(),
        "clock": lambda: "2026-12-01T10:00:00+00:00",
        "tasks": InMemoryTasksIndex(store, UnitOfWork.event_codec(cipher))})
    board = bus.handle(CreateBoard("acct-1", "B", ("A",), "Gagné", "Perdu"))
    stage_id = board.stages[0]["id"]
    column = [bus.handle(CreateCard("acct-1", board.id, stage_id, f"C{i}", "contact:1")).id for i in range(30)]
    for turn in range(200):
        card_id = column[-1]
        move = MoveCard("acct-1", card_id, store.load(card_id)[-1].aggregate_version, stage_id, after=column[0],
                        before=column[1])
        if turn == moves_made:
            return store, index, bus, column, stage_id, move
        written = len(store.all_events)
        bus.handle(move)
        column.insert(1, column.pop())
        if moves_made is None and len(store.all_events) - written > 1:
            return column_near_its_limit(turn)  # the same moves again, but for the last one
    raise AssertionError("never respaced")


@pytest.fixture(autouse=True)
def short_keys():
    with mock.patch("workflows.service_layer.placing.MAX_KEY_LENGTH", LIMIT):
        yield


def test_the_window_is_respaced_so_that_a_failure_at_any_save_leaves_a_valid_order_and_a_retry_finishes():
    crashes = 0
    for nth in range(1, 18):
        store, index, bus, column, stage_id, move = column_near_its_limit()
        card_id = move.card_id
        store.fail_at(nth, Crash("the worker died"))
        try:
            bus.handle(move)
        except Crash:
            crashes += 1
            others = [c for c in index.ordered_ids("acct-1", stage_id) if c != card_id]
            assert others == column[:-1]  # whatever was written, the other cards kept their order
            positions = [p for p, c in index._stage("acct-1", stage_id) if c != card_id]
            assert len(set(positions)) == len(positions)
            assert store.load(card_id)[-1].aggregate_version == move.revision  # the moved card is written last
            bus.handle(move)  # the same move, same revision: no 409
        assert index.ordered_ids("acct-1", stage_id) == [column[0], card_id, *column[1:-1]]
    assert crashes >= 5  # the move did write several cards


@pytest.mark.parametrize("nth", [1, 2, 5])
def test_a_neighbour_written_meanwhile_makes_the_move_read_the_window_again_and_finish(nth):
    store, index, bus, column, stage_id, move = column_near_its_limit()
    store.fail_at(nth, ConcurrencyConflict("changed by someone else"))
    bus.handle(move)
    assert index.ordered_ids("acct-1", stage_id) == [column[0], move.card_id, *column[1:-1]]


def test_a_window_bound_the_lagging_read_model_still_shows_but_that_left_the_stage_is_no_end_of_the_stage():
    from workflows.domain.commands import ArchiveCard

    store, index, bus, column, stage_id, move = column_near_its_limit()
    shown = index.ordered_ids("acct-1", stage_id)
    for card_id in column[5:20]:  # gone from the stage, whichever of them bounds the window
        bus.handle(ArchiveCard("acct-1", card_id))
    fresh = index.ordered_ids
    index.ordered_ids = lambda account_id, stage: shown  # the read model has not seen the archiving yet
    bus.handle(move)
    index.ordered_ids = fresh
    assert index.ordered_ids("acct-1", stage_id) == [column[0], move.card_id, *column[1:5], *column[20:-1]]
