"""The contract every EventStore keeps; run against the fake AND the MongoDB store.

Subclass `EventStoreContract` and provide a `store` fixture.
"""
from __future__ import annotations

import threading

import pytest

from crm_platform.envelope import new_envelope
from crm_platform.event_store import ConcurrencyConflict, StreamHead


def event(aggregate_id: str, version: int, account_id: str = "acct-1", kind: str = "ThingHappened"):
    return new_envelope(
        event_type=kind, aggregate_type="Thing", aggregate_id=aggregate_id,
        aggregate_version=version, account_id=account_id, payload={"n": version},
    )


class EventStoreContract:
    def test_loads_what_was_appended_in_version_order(self, store):
        store.append([event("a", 1), event("a", 2)])
        store.append([event("a", 3)])
        store.append([event("b", 1)])
        assert [e.aggregate_version for e in store.load("a")] == [1, 2, 3]
        assert [e.payload for e in store.load("b")] == [{"n": 1}]
        assert store.load("missing") == []

    def test_second_writer_from_the_same_revision_gets_a_conflict(self, store):
        store.append([event("a", 1)])
        store.append([event("a", 2, kind="FirstWriterWon")])
        with pytest.raises(ConcurrencyConflict):
            store.append([event("a", 2, kind="SecondWriterLost")])
        assert [e.event_type for e in store.load("a")] == ["ThingHappened", "FirstWriterWon"]

    def test_concurrent_writers_exactly_one_wins(self, store):
        store.append([event("a", 1)])
        outcomes: list[str] = []
        barrier = threading.Barrier(4)

        def write(i: int) -> None:
            barrier.wait()
            try:
                store.append([event("a", 2, kind=f"Writer{i}")])
                outcomes.append("won")
            except ConcurrencyConflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict", "conflict", "conflict", "won"]
        assert len(store.load("a")) == 2

    def test_rejects_batches_that_are_not_one_consecutive_aggregate_run(self, store):
        with pytest.raises(ValueError):
            store.append([])
        with pytest.raises(ValueError):
            store.append([event("a", 1), event("b", 2)])
        with pytest.raises(ValueError):
            store.append([event("a", 1), event("a", 3)])

    def test_read_all_returns_every_event_in_commit_order(self, store):
        store.append([event("a", 1)])
        store.append([event("b", 1), event("b", 2)])
        store.append([event("a", 2)])
        assert [(e.aggregate_id, e.aggregate_version) for e in store.read_all(batch_size=2)] == [
            ("a", 1), ("b", 1), ("b", 2), ("a", 2)
        ]

    def test_append_many_stores_each_commit_and_refuses_only_the_conflicts(self, store):
        store.append([event("a", 1)])
        refused = store.append_many([[event("b", 1)], [event("a", 1)], [event("c", 1), event("c", 2)], [event("a", 2)]])
        assert refused == [1]
        assert [e.aggregate_version for e in store.load("c")] == [1, 2]
        assert [e.aggregate_version for e in store.load("a")] == [1, 2]
        assert [(e.aggregate_id, e.aggregate_version) for e in store.read_all()] == [
            ("a", 1), ("b", 1), ("c", 1), ("c", 2), ("a", 2)
        ]

    def test_head_is_the_owner_type_and_newest_version_of_a_stream(self, store):
        store.append([event("a", 1), event("a", 2)])
        store.append([event("a", 3)])
        store.append([event("b", 1, account_id="acct-2")])
        head = store.head("a")
        assert (head.account_id, head.aggregate_type, head.version) == ("acct-1", "Thing", 3)
        assert store.head("b").account_id == "acct-2"
        assert store.head("missing") is None

    def test_written_after_says_whether_a_stream_has_events_past_a_head_it_had(self, store):
        store.append([event("a", 1), event("a", 2)])
        store.append([event("a", 3)])
        assert [store.written_after("a", version) for version in (0, 2, 3)] == [True, True, False]
        assert store.written_after("missing", 0) is False

    def test_heads_in_bulk_are_each_streams_head_and_leave_out_those_without_events(self, store):
        store.append([event("a", 1), event("a", 2)])
        store.append([event("a", 3)])
        store.append([event("b", 1, account_id="acct-2")])
        heads = store.heads(["a", "b", "nothing", "a"])
        assert heads == {"a": StreamHead("acct-1", "Thing", 3), "b": StreamHead("acct-2", "Thing", 1)}
        assert store.heads([]) == {}

    def test_histories_in_bulk_are_each_streams_events_and_leave_out_those_without_events(self, store):
        store.append([event("a", 1), event("a", 2)])
        store.append([event("a", 3)])
        store.append([event("b", 1, account_id="acct-2")])
        histories = store.load_each(["a", "b", "nothing", "a"])
        assert {aggregate_id: [e.aggregate_version for e in history] for aggregate_id, history in histories.items()} \
            == {"a": [1, 2, 3], "b": [1]}
        assert histories["a"] == store.load("a") and store.load_each([]) == {}

    def test_heads_of_type_are_the_accounts_streams_at_their_newest_version(self, store):
        store.append([event("a", 1), event("a", 2)])
        store.append([event("a", 3)])
        store.append([event("b", 1)])
        store.append([event("c", 1, account_id="acct-2")])
        assert store.heads_of_type("acct-1", "Thing") == {"a": 3, "b": 1}
        assert store.heads_of_type("acct-1", "Other") == {}
        assert store.heads_of_type("acct-2", "Thing") == {"c": 1}
