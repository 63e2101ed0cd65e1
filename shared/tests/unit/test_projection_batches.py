"""A polled batch folded per document and written in bulk, on fakes: the plan, the writes, what is left over."""
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from pymongo.errors import AutoReconnect

from crm_platform.projection_batches import BatchingProjection, ReadModels, apply_in_bulk, plan_batch
from crm_platform.projections import DocumentChange, FoldingProjection, Projection
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.in_memory_versioned_documents import InMemoryVersionedDocuments
from crm_platform.testing.versioned_documents_contract import VersionedDocumentsContract

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


class Things(FoldingProjection):
    """A read model of Thing events: `n` from the payload; `seen` moves forward; "Removed" clears `n`."""

    aggregate_type = "Thing"

    def __init__(self, poison: set[int] = frozenset(), outage: bool = False) -> None:
        super().__init__(collection=None, codec=None)
        self.poison, self.outage = poison, outage

    def event_of(self, envelope):
        if self.outage:
            raise AutoReconnect("the database is down")
        if envelope.payload["n"] in self.poison:
            raise ValueError("cannot read this event")
        return envelope

    def change_for(self, envelope, event):
        seen = {"seen": T0 + timedelta(minutes=envelope.aggregate_version)}
        if envelope.event_type == "Removed":
            return DocumentChange({"removed": True}, unset=("n",), forward=seen)
        return DocumentChange({"n": envelope.payload["n"], "account_id": envelope.account_id}, forward=seen)


def thing(aggregate_id, version, n=None, kind="ThingHappened", account_id="acct-1"):
    envelope = event(aggregate_id, version, account_id=account_id, kind=kind)
    return envelope.with_payload({"n": version if n is None else n})


class TestInMemoryVersionedDocuments(VersionedDocumentsContract):
    @pytest.fixture
    def documents(self):
        return InMemoryVersionedDocuments()

    @pytest.fixture
    def stored(self, documents):
        return documents.documents.get


def test_changes_compose_as_if_applied_in_turn():
    first = DocumentChange({"a": 1, "b": 1}, unset=("c",), forward={"seen": T0})
    later = DocumentChange({"c": 3}, unset=("b",), forward={"seen": T0 - timedelta(days=1)})
    assert first.then(later) == DocumentChange({"a": 1, "c": 3}, unset=("b",), forward={"seen": T0})
    with pytest.raises(ValueError):
        DocumentChange({"seen": T0}, forward={"seen": T0})


def test_a_documents_events_fold_in_order_into_one_change_and_twice_delivered_ones_are_covered():
    a1, a2, b1, a2_again = thing("a", 1), thing("a", 2), thing("b", 1), thing("a", 2)
    other = dataclasses.replace(thing("x", 1), aggregate_type="Other")
    plan = plan_batch(Things(), [a1, b1, a2, a2_again, other])
    assert list(plan.folds) == ["a", "b"] and plan.one_by_one == set()
    a = plan.folds["a"]
    assert (a.first_version, a.last_version) == (1, 2)
    assert a.event_ids == [a1.event_id, a2.event_id, a2_again.event_id]
    assert a.change == DocumentChange({"n": 2, "account_id": "acct-1"}, forward={"seen": T0 + timedelta(minutes=2)})


def test_an_event_that_does_not_fold_leaves_its_whole_document_to_one_by_one_and_only_it():
    plan = plan_batch(Things(poison={102}), [thing("a", 1), thing("b", 1), thing("a", 2, n=102), thing("a", 3)])
    assert plan.one_by_one == {"a"} and list(plan.folds) == ["b"]


def test_an_outage_while_folding_is_raised_to_be_waited_out_not_left_to_one_by_one():
    with pytest.raises(AutoReconnect):
        plan_batch(Things(outage=True), [thing("a", 1)])


def test_new_documents_go_in_with_one_insert_and_the_others_with_one_update():
    store = InMemoryVersionedDocuments()
    store.insert_new([{"_id": "old", "n": 1, "version": 1, "seen": T0}])
    events = [thing("a", 1), thing("b", 1), thing("a", 2), thing("old", 2), thing("old", 3, kind="Removed")]
    assert apply_in_bulk(Things(), events, store) == {e.event_id for e in events}
    assert store.statements == {"insert": 2, "update": 1}  # the seed's insert, then one of each
    assert store.documents["a"] == {"_id": "a", "n": 2, "account_id": "acct-1", "seen": T0 + timedelta(minutes=2),
                                    "version": 2}
    assert store.documents["old"] == {"_id": "old", "account_id": "acct-1", "removed": True,
                                      "seen": T0 + timedelta(minutes=3), "version": 3}


def test_the_same_batch_again_changes_nothing_and_counts_as_applied():
    store = InMemoryVersionedDocuments()
    events = [thing("a", 1), thing("a", 2), thing("b", 1), thing("c", 1, kind="Removed")]
    apply_in_bulk(Things(), events, store)
    before = {doc_id: dict(doc) for doc_id, doc in store.documents.items()}
    assert apply_in_bulk(Things(), events, store) == {e.event_id for e in events}
    assert store.documents == before


def test_a_refused_document_and_what_the_server_did_not_confirm_are_left_to_one_by_one():
    # the server refuses "bad" and, like FerretDB, stops there: "after" is not applied and must be found so
    store = InMemoryVersionedDocuments(refuse={"bad", "bad-new"})
    store.documents.update({doc_id: {"_id": doc_id, "n": 1, "version": 1} for doc_id in ("bad", "after", "done")})
    store.documents["done"]["version"] = 2  # already applied
    events = [thing("bad", 2), thing("after", 2), thing("done", 2), thing("bad-new", 1), thing("fresh", 1)]
    applied = apply_in_bulk(Things(), events, store)
    assert applied == {events[2].event_id, events[4].event_id}
    assert store.documents["after"]["version"] == 1  # left for the one-by-one path, which will apply it


class NumberedThings(Things):
    """Things whose new documents get a number, as contacts get their creation number."""

    def __init__(self) -> None:
        super().__init__()
        self.numbered: list[str] = []

    def new_documents(self, documents):
        for document in documents:
            self.numbered.append(document["_id"])
            document["number"] = len(self.numbered)


def test_only_documents_about_to_be_inserted_are_completed_by_the_read_model_and_updates_keep_it():
    store = InMemoryVersionedDocuments()
    store.insert_new([{"_id": "old", "n": 1, "version": 1, "seen": T0}])
    things = NumberedThings()
    apply_in_bulk(things, [thing("a", 1), thing("old", 2), thing("b", 1), thing("b", 2)], store)
    assert things.numbered == ["a", "b"]
    assert (store.documents["a"]["number"], store.documents["b"]["number"]) == (1, 2)
    apply_in_bulk(things, [thing("a", 2), thing("b", 3)], store)
    assert things.numbered == ["a", "b"] and store.documents["b"]["number"] == 2 and store.documents["b"]["version"] == 3


def test_an_update_of_a_missing_document_is_left_to_one_by_one():
    store = InMemoryVersionedDocuments()
    assert apply_in_bulk(Things(), [thing("gone", 4)], store) == set()


def test_a_redelivered_create_with_its_update_moves_the_document_on_from_where_it_is():
    store = InMemoryVersionedDocuments()
    apply_in_bulk(Things(), [thing("a", 1)], store)
    events = [thing("a", 1), thing("a", 2)]  # the first was applied before a crash
    assert apply_in_bulk(Things(), events, store) == {e.event_id for e in events}
    assert store.documents["a"]["version"] == 2 and store.documents["a"]["n"] == 2


class Log(Projection):
    """A read model that takes every event one at a time, as the labels or notes read models do."""

    aggregate_type = "Thing"

    def __init__(self) -> None:
        super().__init__(collection=None, codec=None)
        self.seen = []

    def apply(self, envelope, rebuilding=False):
        self.seen.append(envelope.event_id)
        return True


class CountingThings(Things):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.one_by_one = []

    def apply(self, envelope, rebuilding=False):
        self.one_by_one.append(envelope.event_id)
        return True


def test_read_models_take_a_batch_in_bulk_where_they_fold_and_every_event_one_by_one_elsewhere(monkeypatch):
    store = InMemoryVersionedDocuments()
    monkeypatch.setattr("crm_platform.projection_batches.MongoVersionedDocuments", lambda collection: store)
    things, log = CountingThings(poison={7}), Log()
    models = ReadModels([things, log])
    events = [thing("a", 1), thing("b", 1, n=7), thing("a", 2)]
    with models.batch(events):
        for envelope in events:
            models.apply(envelope)
    assert things.one_by_one == [events[1].event_id]  # only the event that did not fold
    assert log.seen == [e.event_id for e in events]
    assert store.documents["a"]["version"] == 2
    models.apply(events[0])  # outside a batch: one by one again
    assert things.one_by_one[-1] == events[0].event_id


class Entries(BatchingProjection):
    """A read model that writes a batch itself (as a timeline does): it says which events it applied."""

    aggregate_type = "Thing"

    def __init__(self, leaves: set[str]) -> None:
        super().__init__(collection=None, codec=None)
        self.leaves, self.batches, self.one_by_one = leaves, [], []

    def apply_batch(self, envelopes):
        self.batches.append([e.event_id for e in envelopes])
        return {e.event_id for e in envelopes if e.event_id not in self.leaves}

    def apply(self, envelope, rebuilding=False):
        self.one_by_one.append(envelope.event_id)
        return True


def test_a_read_model_that_writes_a_batch_itself_gets_it_and_only_what_it_left_goes_one_by_one():
    events = [thing("a", 1), thing("b", 1), thing("a", 2)]
    entries = Entries(leaves={events[1].event_id})
    models = ReadModels([entries])
    with models.batch(events):
        for envelope in events:
            models.apply(envelope)
    assert entries.batches == [[e.event_id for e in events]]
    assert entries.one_by_one == [events[1].event_id]


class RecordingDatabase:
    def __init__(self) -> None:
        self.commands = []

    def command(self, name, collection, **fields):
        self.commands.append({name: collection, **fields})
        return {"n": len(fields["updates"]), "ok": 1.0}


def test_every_update_statement_is_multi_so_that_ferretdb_gives_its_connection_back(monkeypatch):
    """FerretDB 1.24 holds a PostgreSQL connection per matched single-document statement until the command
    ends: past its pool of 50 the whole server waits for ever. The integration test with 120 documents in one
    statement (shared/tests/integration/test_projection_batches.py) would wedge the shared server without it."""
    from types import SimpleNamespace

    from crm_platform import id_guards
    from crm_platform.versioned_documents import MongoVersionedDocuments

    monkeypatch.setattr(id_guards, "server_scans_for", lambda collection, sample: False)  # a server that indexes

    database = RecordingDatabase()
    documents = MongoVersionedDocuments(SimpleNamespace(name="things", database=database))
    assert documents.move_forward([(f"d{i}", 2, DocumentChange({"n": 2})) for i in range(3)]).unsure == set()
    [update] = database.commands
    assert [statement["multi"] for statement in update["updates"]] == [True, True, True]
    assert update["updates"][0]["q"] == {"_id": "d0", "version": {"$lt": 2}}
