"""The event store's heads and the relay's bookkeeping of many commits read and write by one equality each, never
an `$in`, which FerretDB 1.24 answers by reading every document of the collection: an `$in` over 200 aggregate ids
among 31,000 commits took 11.8 s, an equality each 0.6 s (a person's erasure and export, issue 13). Nor one bulk
write of many statements (the relay's marking of an import's commits)."""
from datetime import timedelta

import pytest
from pymongo import MongoClient

from crm_platform.event_store import MongoEventStore
from crm_platform.kafka_clients import ensure_topics, make_producer
from crm_platform.leases import Lease
from crm_platform.outbox_relay import OutboxRelay
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.servers import scans_for_equalities
from crm_platform.testing.statements import Statements


def counted_db(infra, mongo_db, statements):
    return MongoClient(infra.mongo_uri, tz_aware=True, event_listeners=[statements])[mongo_db.name]


def test_the_heads_of_many_aggregates_are_read_without_an_in(infra, mongo_db):
    MongoEventStore(mongo_db).ensure_indexes()
    seeded = MongoEventStore(mongo_db)
    for n in range(30):
        seeded.append([event(f"note-{n}", 1)])
        if n % 3 == 0:
            seeded.append([event(f"note-{n}", 2)])
    statements = Statements("event_commits")
    heads = MongoEventStore(counted_db(infra, mongo_db, statements)).heads([f"note-{n}" for n in range(30)] + ["none"])
    assert {aggregate: head.version for aggregate, head in heads.items()} == {
        f"note-{n}": 2 if n % 3 == 0 else 1 for n in range(30)}
    assert statements.names and statements.using("$in") == []


def test_the_relay_marks_and_clears_many_commits_without_an_in(infra, mongo_db, topic_namespace):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    MongoEventStore(mongo_db).ensure_indexes()
    for n in range(45):  # more than FEW_IDS: what a bulk erasure or an import leaves to mark
        MongoEventStore(mongo_db).append([event(f"card-{n}", 1)])
    statements = Statements()
    db = counted_db(infra, mongo_db, statements)
    store = MongoEventStore(db)
    relay = OutboxRelay(store, topic, lambda: make_producer(infra.kafka_bootstrap, "test-relay"),
                        Lease(db["leases"], "outbox-relay", ttl=timedelta(seconds=5)), batch_size=100, mark_every=1)
    assert relay.publish_pending() == 45
    relay.mark_published()
    relay.reset_producer()
    assert store.commits.count_documents({"published": False}) == 0
    assert store.outbox.count_documents({}) == 0
    writes = [command for command in statements.commands if "update" in command or "delete" in command]
    assert writes and [command for command in writes if "$in" in repr(command)] == []
    # one statement per command: 2,000 updates in one bulk write left FerretDB 1.24 without an answer
    assert {len(command.get("updates", command.get("deletes", []))) for command in writes} == {1}


def test_the_relay_forgets_an_import_s_commits_by_batch_not_one_statement_each(infra, mongo_db, topic_namespace):
    """An import's commits (append_many) are sent, and their notices deleted, by the batch they were stored in:
    one statement per batch, and no update of the commits, where each commit cost a delete of its notice and an
    update of itself (a SELECT and a write each on FerretDB). A batch with a notice gone (sent before, never
    written) goes commit by commit, and nothing is left behind either way."""
    topic = f"{topic_namespace}imports"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    MongoEventStore(mongo_db).ensure_indexes()
    seeded = MongoEventStore(mongo_db)
    seeded.append_many([[event(f"imported-{n}", 1)] for n in range(60)])
    seeded.append_many([[event(f"partial-{n}", 1)] for n in range(30)])
    seeded.outbox.delete_one({"_id": "partial-0:1"})  # as if sent already: its batch is no longer whole
    statements = Statements()
    db = counted_db(infra, mongo_db, statements)
    store = MongoEventStore(db)
    relay = OutboxRelay(store, topic, lambda: make_producer(infra.kafka_bootstrap, "test-relay"),
                        Lease(db["leases"], "outbox-relay", ttl=timedelta(seconds=5)), batch_size=50,
                        sweep_grace_s=0)
    sent = 0
    while (n := relay.publish_pending()) > 0:
        sent += n
    relay.mark_published()
    relay.reset_producer()
    assert sent == 89
    assert store.outbox.count_documents({}) == 0 and store.commits.count_documents({"published": False}) == 0
    writes = [command for command in statements.commands  # of the commits and their notices, not the lease
              if command.get("update", command.get("delete")) in ("event_commits", "event_commits.outbox")]
    assert [command for command in writes if "batch" in repr(command)] == [
        command for command in writes if command.get("delete") == "event_commits.outbox" and "batch" in repr(command)]
    assert len(writes) == 1 + 2 * 29  # the whole batch's notices at once; the partial one's, a notice and a mark each
    assert statements.using("$in") == []
    assert [record["commits"] for record in store.batches.find()] == [30]  # until a sweep finds it done with
    assert relay.sweep() == 0 and store.batches.count_documents({}) == 0


def test_a_relay_behind_by_more_than_a_batch_counts_its_outbox_now_and_then_not_every_batch(
        infra, mongo_db, topic_namespace):
    """On FerretDB a count reads every notice with its events: 1-3 s each with an import's 10,000 waiting."""
    topic = f"{topic_namespace}behind"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    MongoEventStore(mongo_db).ensure_indexes()
    for n in range(7):
        MongoEventStore(mongo_db).append([event(f"card-{n}", 1)])
    statements = Statements()
    db = counted_db(infra, mongo_db, statements)
    relay = OutboxRelay(MongoEventStore(db), topic, lambda: make_producer(infra.kafka_bootstrap, "test-relay"),
                        Lease(db["leases"], "outbox-relay", ttl=timedelta(seconds=5)), batch_size=2)
    try:
        assert [relay.publish_pending() for _ in range(3)] == [2, 2, 2]
    finally:
        relay.reset_producer()
    assert statements.names.count("count") == 1, "counted once for three full batches"


def test_a_load_on_a_server_that_uses_its_index_is_one_query(infra, mongo_db):
    """FerretDB over PostgreSQL (or MongoDB) pushes the aggregate_id equality down, and says so: one query a load,
    however slow the machine (CI once saw loads turn into `_id` chains on a mere slow answer)."""
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    store.append([event("short", 1), event("short", 2)])
    statements = Statements("event_commits")
    counted = MongoEventStore(counted_db(infra, mongo_db, statements))
    if scans_for_equalities(mongo_db):
        pytest.skip("FerretDB over SQLite scans for an aggregate_id equality: loads go by `_id` there")
    for _ in range(2):
        assert [e.aggregate_version for e in counted.load("short")] == [1, 2]
    assert [c["filter"] for c in statements.commands] == [{"aggregate_id": "short"}] * 2


def test_a_server_that_scans_for_the_aggregate_query_gets_loads_by_id_with_the_same_histories(infra, mongo_db,
                                                                                                monkeypatch):
    """FerretDB over SQLite pushes down nothing but `_id`: each load's aggregate_id equality decoded the whole event
    store. Where the server says so (here: as if it had), loads go by `_id`, commit to commit."""
    from crm_platform import event_store

    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    store.append([event("short", 1), event("short", 2)])
    store.append([event("short", 3)])
    statements = Statements("event_commits")
    counted = MongoEventStore(counted_db(infra, mongo_db, statements))
    monkeypatch.setattr(event_store, "server_scans_for", lambda collection, sample: True)
    assert [e.aggregate_version for e in counted.load("short")] == [1, 2, 3]
    assert counted.load("missing") == []
    assert [c["filter"] for c in statements.commands] == [{"_id": "short:1"}, {"_id": "short:3"}, {"_id": "short:4"},
                                                          {"_id": "missing:1"}]


def test_a_server_that_scans_gets_heads_and_histories_of_many_aggregates_by_id_too(infra, mongo_db, monkeypatch):
    """The same for the heads and histories of many aggregates (an import's batch, a person's export): an
    aggregate_id equality each decoded the whole event store once per aggregate on FerretDB over SQLite."""
    from crm_platform import event_store

    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    for n in range(25):  # past FEW_IDS: the chains run on the reader threads
        store.append([event(f"a-{n}", 1), event(f"a-{n}", 2)])
        if n % 5 == 0:
            store.append([event(f"a-{n}", 3)])
    ids = [f"a-{n}" for n in range(25)] + ["missing", "a-0"]
    monkeypatch.setattr(event_store, "server_scans_for", lambda collection, sample: False)
    indexed = (store.heads(ids), store.load_each(ids), store.head("a-5"), store.head("missing"))
    statements = Statements("event_commits")
    counted = MongoEventStore(counted_db(infra, mongo_db, statements))
    monkeypatch.setattr(event_store, "server_scans_for", lambda collection, sample: True)
    chained = (counted.heads(ids), counted.load_each(ids), counted.head("a-5"), counted.head("missing"))
    assert chained == indexed and indexed[2].version == 3 and indexed[3] is None
    assert {version for version in (head.version for head in chained[0].values())} == {2, 3}
    assert statements.commands and all(set(c["filter"]) == {"_id"} for c in statements.commands)
    heads_only = [c for c in statements.commands if c.get("projection")]
    assert heads_only and all("events" not in c["projection"] for c in heads_only)
