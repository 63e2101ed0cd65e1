"""A read waits until the read model reaches the event store's head, and only so long."""
from __future__ import annotations

import pytest

from crm_platform import read_your_writes
from crm_platform.envelope import new_envelope
from crm_platform.read_your_writes import ReadModelBehind, document_caught_up, versions_caught_up
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_event_store import InMemoryEventStore


def _commit(store, aggregate_id, version, account_id="acct-1"):
    store.append([new_envelope(event_type="ThingHappened", aggregate_type="Thing", aggregate_id=aggregate_id,
                               aggregate_version=version, account_id=account_id, payload={})])


class ProjectingLater:
    """A read model the 'worker' brings to version N after a few reads."""

    def __init__(self, collection, doc_id, version, after_reads):
        self.collection, self.doc_id, self.version, self.after_reads, self.reads = collection, doc_id, version, after_reads, 0

    def find_one(self, query, *args, **kwargs):
        self.reads += 1
        if self.reads == self.after_reads:
            self.collection.delete_one({"_id": self.doc_id})
            self.collection.insert_one({"_id": self.doc_id, "version": self.version})
        return self.collection.find_one(query)


@pytest.fixture(autouse=True)
def no_real_pause(monkeypatch):
    monkeypatch.setattr(read_your_writes, "PAUSE_SECONDS", 0)


def test_a_document_not_projected_yet_is_waited_for():
    store, docs = InMemoryEventStore(), InMemoryCollection()
    _commit(store, "c1", 1)
    lagging = ProjectingLater(docs, "c1", 1, after_reads=3)
    assert document_caught_up(lagging, store, "acct-1", "c1", wait=1) == {"_id": "c1", "version": 1}
    assert lagging.reads == 3


def test_an_older_version_is_waited_for_until_the_head():
    store, docs = InMemoryEventStore(), InMemoryCollection()
    _commit(store, "c1", 1)
    _commit(store, "c1", 2)
    docs.insert_one({"_id": "c1", "version": 1})
    lagging = ProjectingLater(docs, "c1", 2, after_reads=2)
    assert document_caught_up(lagging, store, "acct-1", "c1", wait=1)["version"] == 2


def test_a_read_model_that_never_catches_up_ends_in_read_model_behind():
    store, docs = InMemoryEventStore(), InMemoryCollection()
    _commit(store, "c1", 1)
    with pytest.raises(ReadModelBehind) as caught:
        document_caught_up(docs, store, "acct-1", "c1", wait=0.05)
    assert caught.value.status == 503 and caught.value.retry_after == 1


def test_nothing_is_waited_for_without_a_stream_or_for_another_account():
    store, docs = InMemoryEventStore(), InMemoryCollection()
    _commit(store, "theirs", 1, account_id="acct-2")
    assert document_caught_up(docs, store, "acct-1", "missing", wait=0) is None
    assert document_caught_up(docs, store, "acct-1", "theirs", wait=0) is None


def test_versions_are_waited_for_until_every_head_is_reached():
    reads = iter([{"a": 1}, {"a": 2, "b": 0}, {"a": 2, "b": 1}])
    assert versions_caught_up(lambda: next(reads), {"a": 2, "b": 1}, wait=1) == {"a": 2, "b": 1}
    with pytest.raises(ReadModelBehind):
        versions_caught_up(lambda: {"a": 1}, {"a": 2}, wait=0.02)
