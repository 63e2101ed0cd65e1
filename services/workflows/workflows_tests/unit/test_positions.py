"""Positions: any sequence of moves keeps a total order and writes one card per move, or a few when keys grew long
(issue 12: never the whole column)."""
from unittest import mock

import pytest
from hypothesis import given, settings, strategies as st

from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from workflows.domain.commands import CreateBoard, CreateCard, MoveCard
from workflows.domain.positions import MAX_KEY_LENGTH, is_key, key_between, keys_between, spaced_keys, spread_keys
from workflows.service_layer import dispatch
from workflows.service_layer.placing import MAX_CARDS_RESPACED
from workflows.service_layer.unit_of_work import UnitOfWork

from .fakes import ForgottenTimelines, InMemoryCardsIndex, InMemoryContactsDirectory, InMemoryTasksIndex

keys = st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8).filter(is_key)


@given(keys, keys)
def test_a_key_between_two_keys_sorts_between_them(one, two):
    if one == two:
        return
    lower, upper = sorted((one, two))
    key = key_between(lower, upper)
    assert lower < key < upper and is_key(key)
    assert key_between(None, lower) < lower and upper < key_between(upper, None)


@pytest.mark.parametrize("count", [0, 1, 2, 35, 36, 37, 1000])
def test_spread_and_block_keys_increase_and_stay_short(count):
    spread = spread_keys(count)
    block = keys_between("h", "i", count)
    for found in (spread, block):
        assert found == sorted(set(found)) and len(found) == count and all(map(is_key, found))
    assert all("h" < key < "i" for key in block)
    assert max(map(len, spread), default=0) <= 4 and len({len(key) for key in spread}) <= 1


def world():
    store, cipher, directory = InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore()), InMemoryContactsDirectory()
    directory.record_existing("acct-1", "contact:1")
    index = InMemoryCardsIndex(store, UnitOfWork.event_codec(cipher))
    bus = MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
        "uow": Fresh(lambda: UnitOfWork(store, cipher)), "cards": index, "contacts": directory,
        "timeline": ForgottenTimelines(), "timeline_follower": ForgottenTimelines(),
        "clock": lambda: "2026-12-01T10:00:00+00:00",
        "tasks": InMemoryTasksIndex(store, UnitOfWork.event_codec(cipher))})
    return store, index, bus


# a move: which card (by rank in its column), to which of two stages, to which place (by rank in that column)
moves = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 100), st.integers(0, 1), st.integers(0, 100)),
                 min_size=1, max_size=80)


@settings(max_examples=40, deadline=None)
@given(moves, st.sampled_from(["anywhere", "first", "second"]), st.sampled_from([MAX_KEY_LENGTH, 5]))
def test_any_sequence_of_moves_keeps_a_total_order_writing_a_bounded_number_of_cards_per_move(sequence, spots, limit):
    with mock.patch("workflows.service_layer.placing.MAX_KEY_LENGTH", limit):  # 5: respaced every few moves
        check_moves(sequence, spots, limit)


def check_moves(sequence, spots, limit):
    store, index, bus = world()
    board = bus.handle(CreateBoard("acct-1", "B", ("A", "B"), "Gagné", "Perdu"))
    stages = [stage["id"] for stage in board.stages]
    columns = {stages[0]: [bus.handle(CreateCard("acct-1", board.id, stages[0], f"C{i}", "contact:1")).id
                           for i in range(30)], stages[1]: []}
    revisions = {card_id: 1 for card_id in columns[stages[0]]}
    for source_rank, card_rank, target_rank, place_rank in sequence:
        source = columns[stages[source_rank]] or columns[stages[1 - source_rank]]
        source_stage = stages[source_rank] if columns[stages[source_rank]] else stages[1 - source_rank]
        card_id = source[card_rank % len(source)]
        target_stage = stages[target_rank]
        source.remove(card_id)
        target = columns[target_stage]
        # to the same place again and again: keys grow
        spot = {"anywhere": place_rank % (len(target) + 1), "first": 0, "second": min(1, len(target))}[spots]
        after = target[spot - 1] if spot > 0 else None
        before = target[spot] if spot < len(target) else None
        written = len(store.all_events)
        moved = bus.handle(MoveCard("acct-1", card_id, revisions[card_id], target_stage, after=after, before=before))
        target.insert(spot, card_id)
        new_events = store.all_events[written:]
        assert len(new_events) <= MAX_CARDS_RESPACED + 1 and set(e.aggregate_id for e in new_events) <= set(target)
        assert new_events[-1].aggregate_id == card_id  # the card that moves is written last
        for envelope in new_events:
            revisions[envelope.aggregate_id] = envelope.aggregate_version
        assert moved.stage_id == target_stage and source_stage in stages
        for stage_id in stages:
            assert index.ordered_ids("acct-1", stage_id) == columns[stage_id]
            positions = [p for p, _ in index._stage("acct-1", stage_id)]
            assert len(set(positions)) == len(positions) and all(len(p) <= limit for p in positions)


def test_moving_cards_into_the_same_gap_again_and_again_respaces_the_stage_once_keys_are_too_long():
    store, index, bus = world()
    board = bus.handle(CreateBoard("acct-1", "B", ("A",), "Gagné", "Perdu"))
    stage_id = board.stages[0]["id"]
    cards = [bus.handle(CreateCard("acct-1", board.id, stage_id, f"C{i}", "contact:1")) for i in range(3)]
    revisions, writes = {card.id: 1 for card in cards}, []
    for turn in range(400):
        first, second, last = index.ordered_ids("acct-1", stage_id)
        written = len(store.all_events)
        bus.handle(MoveCard("acct-1", last, revisions[last], stage_id, after=first, before=second))
        writes.append(len(store.all_events) - written)
        for envelope in store.all_events[written:]:
            revisions[envelope.aggregate_id] = envelope.aggregate_version
    assert writes.count(3) >= 1 and set(writes) == {1, 3}  # one card per move, all three once keys reach the limit
    assert max(len(p) for p, _ in index._stage("acct-1", stage_id)) <= MAX_KEY_LENGTH


@pytest.mark.parametrize("count", [0, 4, 100, 5000])
def test_cards_added_at_either_end_take_one_step_so_a_stage_fills_long_before_it_needs_rebalancing(count):
    start = spread_keys(count)
    last, first = (start[-1], start[0]) if start else (None, None)
    for _ in range(100 + 10 * count):  # room for ten times as many cards as the stage had when rebalanced
        last, first = key_between(last, None), key_between(None, first)
    assert len(last) <= 4 and len(first) <= 4  # halving the gap to the end would have passed 20 characters


def test_moves_into_one_gap_of_a_long_column_respace_a_few_neighbours_never_the_column():
    store, index, bus = world()
    board = bus.handle(CreateBoard("acct-1", "B", ("A",), "Gagné", "Perdu"))
    stage_id = board.stages[0]["id"]
    column = [bus.handle(CreateCard("acct-1", board.id, stage_id, f"C{i}", "contact:1")).id for i in range(60)]
    revisions, writes = {card_id: 1 for card_id in column}, []
    for turn in range(1000):  # "insert at 2nd place", again and again: keys grow a digit every five moves
        card_id = column.pop()
        column.insert(1, card_id)
        written = len(store.all_events)
        bus.handle(MoveCard("acct-1", card_id, revisions[card_id], stage_id, after=column[0], before=column[2]))
        writes.append(len(store.all_events) - written)
        for envelope in store.all_events[written:]:
            revisions[envelope.aggregate_id] = envelope.aggregate_version
    assert max(writes) > 1  # keys did reach the limit, and were respaced
    assert max(writes) <= MAX_CARDS_RESPACED + 1
    assert index.ordered_ids("acct-1", stage_id) == column
    assert max(len(p) for p, _ in index._stage("acct-1", stage_id)) <= MAX_KEY_LENGTH


@given(st.one_of(st.none(), keys), st.one_of(st.none(), keys), st.integers(0, 40))
def test_spaced_keys_lie_evenly_between_their_bounds_with_room_between_them(one, two, count):
    if one is not None and two is not None:
        if one == two:
            return
        one, two = sorted((one, two))
    found = spaced_keys(one, two, count)
    assert found == sorted(set(found)) and len(found) == count and all(map(is_key, found))
    assert all((one is None or one < key) and (two is None or key < two) for key in found)
    if found:  # as short as leaves BASE units between them: one digit fewer would not (however long the bounds)
        width = len(found[0]) - 1
        low = int((one or "0")[:width].ljust(width, "0"), 36) if width else 0
        high = int(two[:width].ljust(width, "0"), 36) if two is not None and width else 36 ** width
        assert {len(key) for key in found} == {width + 1} and (width == 0 or high - low < (count + 1) * 36)
