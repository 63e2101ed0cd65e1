"""The outbox relay against the real broker and database."""
import json
import threading
import time
from datetime import timedelta

from crm_platform.event_store import MongoEventStore
from crm_platform.kafka_clients import ensure_topics, make_producer
from crm_platform.leases import Lease
from crm_platform.outbox_relay import OutboxRelay
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.topics import read_topic


def relay_for(store, bootstrap, topic, db, **options):
    return OutboxRelay(store, topic, lambda: make_producer(bootstrap, "test-relay"),
                       Lease(db["leases"], "outbox-relay", ttl=timedelta(seconds=5)), **options)


def fill(store, aggregates=("a", "b", "c"), versions=5):
    for version in range(1, versions + 1):
        for aggregate in aggregates:
            store.append([event(aggregate, version)])


def test_relay_publishes_every_event_in_order_per_aggregate(infra, mongo_db, topic_namespace):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=3)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    fill(store)
    store.append([event("d", 1), event("d", 2), event("d", 3)])  # one commit, three events
    relay = relay_for(store, infra.kafka_bootstrap, topic, mongo_db, batch_size=4)
    published = 0
    while (n := relay.publish_pending()) > 0:
        published += n
    relay.reset_producer()
    assert published == 16
    assert store.commits.count_documents({"published": False}) == 0

    records = read_topic(infra.kafka_bootstrap, topic, expected=18)
    assert len(records) == 18
    by_aggregate: dict = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        data = json.loads(record.value)
        assert record.key.decode() == data["aggregate_id"]
        by_aggregate.setdefault(data["aggregate_id"], []).append(data["aggregate_version"])
    assert by_aggregate == {"a": [1, 2, 3, 4, 5], "b": [1, 2, 3, 4, 5], "c": [1, 2, 3, 4, 5], "d": [1, 2, 3]}


def test_relay_loop_stops_cleanly(infra, mongo_db, topic_namespace):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    store.append([event("a", 1)])
    stop = threading.Event()
    relay = relay_for(store, infra.kafka_bootstrap, topic, mongo_db)
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    records = read_topic(infra.kafka_bootstrap, topic, expected=1)
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert len(records) == 1


def test_a_commit_whose_notice_was_lost_is_swept_and_sent_before_its_successor(infra, mongo_db, topic_namespace):
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    relay = relay_for(store, infra.kafka_bootstrap, topic, mongo_db, sweep_every_s=3600, sweep_grace_s=0)
    assert relay.sweep() == 0  # the start-up sweep; the next one is an hour away
    store.append([event("a", 1)])
    store.outbox.delete_many({})  # as if the writer died between its commit and its notice
    store.append([event("a", 2)])
    assert relay.publish_pending() == 2  # v1 found through v2's predecessor check, sent first
    assert relay.publish_pending() == 0  # nothing left: what was sent is marked published
    relay.reset_producer()
    assert store.commits.count_documents({"published": False}) == 0
    records = read_topic(infra.kafka_bootstrap, topic, expected=2)
    assert [json.loads(r.value)["aggregate_version"] for r in records] == [1, 2]

    store.append([event("b", 1)])
    store.outbox.delete_many({})
    assert relay.sweep() == 1, "the sweep gives the orphaned commit a notice"
    assert relay.publish_pending() == 1
    relay.reset_producer()


def test_bulk_appended_commits_are_published_from_their_notices(infra, mongo_db, topic_namespace):
    topic = f"{topic_namespace}bulk"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=2)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    assert store.append_many([[event(f"p{i}", 1)] for i in range(30)] + [[event("p0", 1)]]) == [30]
    assert store.outbox.count_documents({}) == 30
    relay = relay_for(store, infra.kafka_bootstrap, topic, mongo_db, batch_size=8)
    published = 0
    while (n := relay.publish_pending()) > 0:
        published += n
    relay.reset_producer()
    assert published == 30
    assert store.commits.count_documents({"published": False}) == 0 and store.outbox.count_documents({}) == 0
    records = read_topic(infra.kafka_bootstrap, topic, expected=30)
    assert sorted(r.key.decode() for r in records) == sorted(f"p{i}" for i in range(30))


def test_a_commit_kafka_refuses_for_good_is_set_aside_and_the_rest_flows(infra, mongo_db, topic_namespace, monkeypatch):
    """One oversized event (stored before events were bounded) used to make the relay retry its batch forever."""
    from crm_platform import event_store

    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    store.append([event("a", 1)])
    monkeypatch.setattr(event_store, "MAX_EVENT_BYTES", 10**8)  # as an old commit, before the bound
    store.append([event("big", 1).with_payload({"n": 1, "blob": "x" * 2_000_000})])
    monkeypatch.undo()
    store.append([event("big", 2)])
    store.append([event("c", 1)])
    relay = relay_for(store, infra.kafka_bootstrap, topic, mongo_db)
    while relay.publish_pending() > 0:
        pass
    relay.mark_published()
    relay.reset_producer()
    assert relay.publish_pending() == 0  # nothing left to retry
    relay.reset_producer()
    records = read_topic(infra.kafka_bootstrap, topic, expected=3)
    assert sorted((json.loads(r.value)["aggregate_id"], json.loads(r.value)["aggregate_version"]) for r in records) == [
        ("a", 1), ("big", 2), ("c", 1)]
    [aside] = list(store.unsendable.find())
    assert aside["_id"] == "big:1" and "MessageSizeTooLarge" in aside["reason"]
    assert store.commits.find_one({"_id": "big:1"})["unsendable"] == aside["reason"]
    assert relay.sweep() == 0  # not taken for an orphan


class SlowProducer:
    """A real producer whose every send takes `delay_s` (a broker slow to take records, a full buffer)."""

    def __init__(self, producer, delay_s: float, started: threading.Event) -> None:
        self._producer, self._delay_s, self._started = producer, delay_s, started

    def send(self, *args, **kwargs):
        self._started.set()
        time.sleep(self._delay_s)
        return self._producer.send(*args, **kwargs)

    def flush(self, timeout=None):
        return self._producer.flush(timeout=timeout)

    def close(self, timeout=None):
        return self._producer.close(timeout=timeout)


def test_a_batch_longer_than_the_lease_renews_it_so_no_second_relay_publishes_the_batch_again(
        infra, mongo_db, topic_namespace):
    """The lease must be renewed in the database during the batch: else it lapses, a standby relay takes it over
    and sends the same commits while the first is still sending them."""
    topic = f"{topic_namespace}things"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    fill(store, aggregates=[f"p{n}" for n in range(12)], versions=1)
    ttl = timedelta(seconds=1)
    sending = threading.Event()
    first = OutboxRelay(store, topic, lambda: SlowProducer(make_producer(infra.kafka_bootstrap, "slow"), 0.25, sending),
                        Lease(mongo_db["leases"], "outbox-relay", ttl=ttl))  # 12 sends: a batch of 3 lease times
    standby = OutboxRelay(store, topic, lambda: make_producer(infra.kafka_bootstrap, "standby"),
                          Lease(mongo_db["leases"], "outbox-relay", ttl=ttl))
    first_published = []
    batch = threading.Thread(target=lambda: first_published.append(first.publish_pending()))
    batch.start()
    assert sending.wait(timeout=30)
    standby_published, tries = 0, 0
    while batch.is_alive():  # the standby tries to take over all along the batch, as its run loop would
        standby_published += standby.publish_pending()
        tries += 1
        time.sleep(0.05)
    batch.join()
    first.mark_published()
    first.reset_producer()
    standby.reset_producer()
    assert tries >= 20 and first_published == [12]
    assert standby_published == 0, "the standby took the lease over in the middle of the batch"
    records = read_topic(infra.kafka_bootstrap, topic, expected=12, settle_s=2.0)
    assert sorted(r.key.decode() for r in records) == sorted(f"p{n}" for n in range(12)), "each commit sent once"


def test_a_standby_relay_asks_for_the_lease_a_few_times_a_second_not_fifty(infra, mongo_db, topic_namespace):
    store = MongoEventStore(mongo_db)
    holder = Lease(mongo_db["leases"], "outbox-relay", ttl=timedelta(seconds=5))
    assert holder.acquire_or_renew()
    standby = relay_for(store, infra.kafka_bootstrap, f"{topic_namespace}things", mongo_db)
    asked = []
    ask = standby._lease.acquire_or_renew
    standby._lease.acquire_or_renew = lambda: asked.append(time.monotonic()) or ask()
    stop = threading.Event()
    thread = threading.Thread(target=standby.run, args=(stop,))
    thread.start()
    time.sleep(2)
    stop.set()
    thread.join(timeout=10)
    assert 1 <= len(asked) <= 10, f"{len(asked)} lease requests in 2 s"  # each one a database write
    holder.release()


def test_an_import_whose_notices_were_never_written_is_swept_and_sent_before_a_later_commit(
        infra, mongo_db, topic_namespace):
    """A bulk append's commits have no `published` of their own: a batch whose writer died between its commits and
    their notices is found by its record (never `noticed`), and a later commit of one of its aggregates sends it
    first; a batch sent whole counts as published when a later commit checks its predecessor."""
    topic = f"{topic_namespace}imports"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    relay = relay_for(store, infra.kafka_bootstrap, topic, mongo_db, sweep_every_s=3600, sweep_grace_s=0)
    assert relay.sweep() == 0
    store.append_many([[event(f"sent-{n}", 1)] for n in range(5)])
    assert relay.publish_pending() == 5 and store.batches.count_documents({}) == 0  # sent whole: record gone
    store.append_many([[event(f"lost-{n}", 1)] for n in range(4)])
    store.outbox.delete_many({})  # as if the writer died between its commits and their notices
    store.batches.update_many({}, {"$set": {"noticed": False}})
    store.append([event("lost-0", 2)])
    store.append([event("sent-0", 2)])
    later = OutboxRelay(store, topic, lambda: make_producer(infra.kafka_bootstrap, "test-relay"),  # remembers nothing
                        Lease(mongo_db["leases"], "another-relay", ttl=timedelta(seconds=5)))
    later.sweep = lambda: 0  # not yet: the predecessor check alone finds lost-0:1
    assert later.publish_pending() == 3  # lost-0 v1 then v2, and sent-0 v2 (its v1 published whole)
    assert later.publish_pending() == 0
    later.reset_producer()
    assert relay.sweep() == 3, "the sweep gives the batch's other commits their notices"
    assert relay.publish_pending() == 3 and relay.publish_pending() == 0
    relay.reset_producer()
    records = read_topic(infra.kafka_bootstrap, topic, expected=5 + 3 + 3)
    sent = [(json.loads(r.value)["aggregate_id"], json.loads(r.value)["aggregate_version"]) for r in records]
    assert sorted(sent) == sorted([(f"sent-{n}", 1) for n in range(5)] + [("sent-0", 2)]
                                  + [(f"lost-{n}", 1) for n in range(4)] + [("lost-0", 2)])
    assert sent.index(("lost-0", 1)) < sent.index(("lost-0", 2))
    assert relay.sweep() == 0  # the swept batch's commits, sent one by one, are marked: its record stays a day
    assert store.commits.count_documents({"_id": {"$in": [f"lost-{n}:1" for n in range(4)]}, "published": True}) == 4


def a_batch_half_written(infra, mongo_db, topic_namespace):
    """A topic, and a store whose bulk append of ten commits has six notices written and its record not noticed yet
    (as while the writer inserts them); the four notices still to write."""
    topic = f"{topic_namespace}imports"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    store.append_many([[event(f"p{n}", 1)] for n in range(10)])
    late = list(store.outbox.find({"_id": {"$in": [f"p{n}:1" for n in range(6, 10)]}}))
    store.outbox.delete_many({"_id": {"$in": [notice["_id"] for notice in late]}})
    store.batches.update_many({}, {"$set": {"noticed": False}})
    return topic, store, late


def test_a_batch_whose_notices_are_still_being_written_waits_for_them_rather_than_go_one_by_one(
        infra, mongo_db, topic_namespace):
    """A relay reading while an import writes its 500 notices would otherwise send the first ones commit by commit
    (two statements each) and leave the batch's record for the sweep."""
    topic, store, late = a_batch_half_written(infra, mongo_db, topic_namespace)
    relay = relay_for(store, infra.kafka_bootstrap, topic, mongo_db, sweep_grace_s=60)
    assert relay.publish_pending() == 0  # six of ten notices: the batch waits
    store.outbox.insert_many(late)
    store.batches.update_many({}, {"$set": {"noticed": True}})
    assert relay.publish_pending() == 10
    relay.reset_producer()
    assert store.outbox.count_documents({}) == 0 and store.batches.count_documents({}) == 0  # sent whole
    assert store.commits.count_documents({"published": True}) == 0  # none marked one by one


class WriterDoneRightAfterTheBatchIsRead:
    """The outbox of a writer that finishes its notices (and marks its batch noticed) right after the relay read the
    rest of the batch: FerretDB writes 500 notices in parts, and a relay polling every 20 ms reads in between."""

    def __init__(self, outbox, finish) -> None:
        self._outbox, self._finish = outbox, finish

    def find(self, query, *args, **kwargs):
        found = list(self._outbox.find(query, *args, **kwargs)) if "batch" in query else None
        if found is None:
            return self._outbox.find(query, *args, **kwargs)
        self._finish()
        return found

    def __getattr__(self, name):
        return getattr(self._outbox, name)


def test_a_batch_whose_writer_finishes_while_the_relay_reads_it_still_goes_whole(infra, mongo_db, topic_namespace):
    """The relay asks the batch's record before it reads the rest of the batch: asked after, it said `noticed` about
    notices the read had not seen, and 2,000 commits of every 10,000-row import went commit by commit."""
    topic, store, late = a_batch_half_written(infra, mongo_db, topic_namespace)

    def finish():
        if store.outbox.count_documents({"_id": late[0]["_id"]}) == 0:
            store.outbox.insert_many(late)
            store.batches.update_many({}, {"$set": {"noticed": True}})

    class Racing(MongoEventStore):
        @property
        def outbox(self):
            return WriterDoneRightAfterTheBatchIsRead(super().outbox, finish)

    relay = relay_for(Racing(mongo_db), infra.kafka_bootstrap, topic, mongo_db, sweep_grace_s=60)
    assert relay.publish_pending() == 0  # six of ten read, the record said "still written" before: it waits
    assert relay.publish_pending() == 10
    relay.reset_producer()
    assert store.outbox.count_documents({}) == 0 and store.batches.count_documents({}) == 0  # sent whole
    assert store.commits.count_documents({"published": True}) == 0  # none marked one by one


def test_a_swept_batch_keeps_its_commits_unsent_until_each_is_sent(infra, mongo_db, topic_namespace):
    """The sweep gives a never-noticed batch's commits notices without events: a later version waiting for one of
    them sends it first, and a commit of the batch landing after a sweep (a writer stalled past the grace) gets its
    notice at the next sweep, not taken for sent."""
    topic = f"{topic_namespace}imports"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    store = MongoEventStore(mongo_db)
    store.ensure_indexes()
    relay = relay_for(store, infra.kafka_bootstrap, topic, mongo_db, batch_size=1, sweep_every_s=3600,
                      sweep_grace_s=0)
    assert relay.sweep() == 0
    store.append_many([[event(f"lost-{n}", 1)] for n in range(3)])
    late = store.commits.find_one({"_id": "lost-2:1"})
    store.commits.delete_one({"_id": "lost-2:1"})  # not yet written by its stalled writer
    store.outbox.delete_many({})
    store.batches.update_many({}, {"$set": {"noticed": False}})
    store.append([event("lost-0", 2)])  # its notice is read before the sweep's
    assert relay.sweep() == 2
    while relay.publish_pending() > 0:
        pass
    store.commits.insert_one(late)  # the stalled writer's commit lands, its notice never written
    assert relay.sweep() == 1
    while relay.publish_pending() > 0:
        pass
    relay.reset_producer()
    records = read_topic(infra.kafka_bootstrap, topic, expected=4)
    sent = [(json.loads(r.value)["aggregate_id"], json.loads(r.value)["aggregate_version"]) for r in records]
    assert sorted(sent) == [("lost-0", 1), ("lost-0", 2), ("lost-1", 1), ("lost-2", 1)]
    assert sent.index(("lost-0", 1)) < sent.index(("lost-0", 2))
    assert relay.sweep() == 0 and store.outbox.count_documents({}) == 0
