"""Jobs on the real MongoDB server: progress, failed items, cancellation, resumption after a dead worker."""
import logging
import threading
import time
from datetime import timedelta

import pytest
from pymongo import MongoClient

from crm_platform.jobs import JobNotFound, JobRunner, JobStore
from crm_platform.testing.outages import MongoOutage


@pytest.fixture
def store(mongo_db):
    store = JobStore(mongo_db["jobs"])
    store.ensure_indexes()
    return store


def test_a_job_runs_every_item_and_reports_the_failed_ones(store):
    done = []

    def step(job, item):
        if item == "bad":
            raise ValueError("cannot do bad")
        done.append(item)

    job = store.submit("acct-1", "demo", ["a", "bad", "c"], {})
    runner = JobRunner(store, {"demo": step}, save_every_s=0)
    claimed = store.claim_next(["demo"], runner.owner, timedelta(seconds=60))
    assert runner.run_job(claimed, threading.Event()) == "done"
    final = store.get("acct-1", job["_id"])
    assert (final["status"], final["processed"], final["succeeded"], final["failed"]) == ("done", 3, 2, 1)
    assert final["errors"] == [{"item": 1, "error": "cannot do bad"}]
    assert done == ["a", "c"]
    with pytest.raises(JobNotFound):
        store.get("acct-2", job["_id"])
    assert store.claim_next(["demo"], runner.owner, timedelta(seconds=60)) is None


def test_a_cancelled_job_stops_after_the_item_in_progress(store):
    job = store.submit("acct-1", "slow", list(range(200)), {})
    cancel_sent = threading.Event()

    def slow(job, item):  # from the sixth item on, each waits for the cancel: no race with a loaded machine
        if item >= 5:
            cancel_sent.wait(timeout=20)

    runner = JobRunner(store, {"slow": slow}, save_every_s=0)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), kwargs={"idle_s": 0.05})
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while store.get("acct-1", job["_id"])["processed"] < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        store.request_cancel("acct-1", job["_id"])
        cancel_sent.set()
        while store.get("acct-1", job["_id"])["status"] != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        cancel_sent.set()
        stop.set()
        thread.join(timeout=10)
    final = store.get("acct-1", job["_id"])
    assert final["status"] == "cancelled" and 5 <= final["processed"] <= 7


def test_a_job_whose_worker_died_is_resumed_where_it_stood(store):
    job = store.submit("acct-1", "demo", ["a", "b", "c", "d"], {})
    dead = JobRunner(store, {"demo": lambda job, item: None})
    store.claim_next(["demo"], dead.owner, timedelta(seconds=60))
    store.record(job["_id"], dead.owner, {"processed": 2, "succeeded": 2, "failed": 0, "errors": []})
    seen = []
    alive = JobRunner(store, {"demo": lambda job, item: seen.append(item)}, save_every_s=0)
    assert store.claim_next(["demo"], alive.owner, timedelta(seconds=60)) is None  # heartbeat still fresh
    # "stale after -1 s": any heartbeat counts as stale (with 0, one written in the same millisecond would not)
    resumed = store.claim_next(["demo"], alive.owner, timedelta(seconds=-1))
    assert resumed["_id"] == job["_id"]
    assert alive.run_job(resumed, threading.Event()) == "done"
    assert seen == ["c", "d"]
    assert store.get("acct-1", job["_id"])["succeeded"] == 4


def test_counts_returned_by_a_step_add_up_across_items_and_resumptions(store):
    job = store.submit("acct-1", "batches", [3, 2, 4], {})
    first = JobRunner(store, {"batches": lambda job, item: {"rows": item, "created": item - 1}}, save_every_s=0)
    claimed = store.claim_next(["batches"], first.owner, timedelta(seconds=60))
    store.record(job["_id"], first.owner, {"processed": 1, "succeeded": 1, "failed": 0, "errors": [],
                                           "counts": {"rows": 3, "created": 2}})
    resumed = store.claim_next(["batches"], "another", timedelta(seconds=-1))  # any heartbeat is stale
    assert resumed["_id"] == claimed["_id"] and resumed["counts"] == {"rows": 3, "created": 2}
    second = JobRunner(store, {"batches": lambda job, item: {"rows": item, "created": item - 1}}, save_every_s=0)
    second.owner = "another"
    assert second.run_job(resumed, threading.Event()) == "done"
    assert store.get("acct-1", job["_id"])["counts"] == {"rows": 9, "created": 6}


def test_an_item_that_meets_an_outage_is_run_again_not_counted_failed(store):
    """A database outage during an import batch used to mark the batch failed and end the job 'done'."""
    from pymongo.errors import AutoReconnect

    from crm_platform.errors import DependencyUnavailable

    outages = {"b": [DependencyUnavailable("event store unavailable"), AutoReconnect("lost")]}
    done = []

    def step(job, item):
        if outages.get(item):
            raise outages[item].pop(0)
        done.append(item)

    job = store.submit("acct-1", "demo", ["a", "b", "c"], {})
    runner = JobRunner(store, {"demo": step}, save_every_s=0, retry_first_s=0.01)
    claimed = store.claim_next(["demo"], runner.owner, timedelta(seconds=60))
    assert runner.run_job(claimed, threading.Event()) == "done"
    final = store.get("acct-1", job["_id"])
    assert (final["processed"], final["succeeded"], final["failed"], final["errors"]) == (3, 3, 0, [])
    assert done == ["a", "b", "c"]


def test_a_worker_stopping_during_an_outage_leaves_the_job_to_resume(store):
    from crm_platform.errors import DependencyUnavailable

    def step(job, item):
        raise DependencyUnavailable("down for a while")

    store.submit("acct-1", "demo", ["a"], {})
    runner = JobRunner(store, {"demo": step}, save_every_s=0, retry_first_s=0.01)
    claimed = store.claim_next(["demo"], runner.owner, timedelta(seconds=60))
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    assert runner.run_job(claimed, stop) == "running"


def test_a_job_waits_a_real_database_outage_out_and_ends_done_with_no_item_failed(infra, mongo_db, caplog):
    """The database goes away twice during a job, as a real client meets it: once between an item and the
    progress it records, once during an item's own write. Nothing fails; the job is not left for another
    worker to resume a minute later: it ends done, every item applied once."""
    with MongoOutage(infra.mongo_uri) as outage, \
            MongoClient(outage.uri(), serverSelectionTimeoutMS=300, connectTimeoutMS=300, tz_aware=True) as client:
        db = client[mongo_db.name]
        store = JobStore(db["jobs"])
        store.ensure_indexes()
        applied = db["applied"]

        cuts = {6: "before", 3: "after"}  # item 6's own write meets an outage; the progress recorded after 3 does

        def step(job, item):
            if cuts.get(item) == "before":
                outage.cut(restore_after_attempts=3)
                del cuts[item]  # once: the item is run again after the outage
            applied.update_one({"_id": item}, {"$inc": {"times": 1}}, upsert=True)
            if cuts.pop(item, None) == "after":
                outage.cut(restore_after_attempts=3)

        job = store.submit("acct-1", "demo", list(range(10)), {})
        observed = JobStore(mongo_db["jobs"])  # the test's view, not cut
        runner = JobRunner(store, {"demo": step}, save_every_s=0, retry_first_s=0.05)
        stop = threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop,), kwargs={"idle_s": 0.05})
        with caplog.at_level(logging.WARNING, logger="crm_platform.jobs"):
            thread.start()
            try:
                deadline = time.monotonic() + 30  # well under the 60 s after which another worker would resume it
                while observed.get("acct-1", job["_id"])["status"] != "done" and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                stop.set()
                thread.join(timeout=30)
        final = observed.get("acct-1", job["_id"])
        assert (final["status"], final["processed"], final["succeeded"], final["failed"]) == ("done", 10, 10, 0)
        assert sorted((d["_id"], d["times"]) for d in mongo_db["applied"].find()) == [(n, 1) for n in range(10)]
    assert outage.turned_away >= 6, "the client kept trying through both outages"
    waited = [r for r in caplog.records if "waits out an outage" in r.getMessage()]
    assert len(waited) >= 2, "each outage was seen and waited out"


def test_a_jobs_progress_shows_in_the_workers_metrics(store):
    """Items done by outcome, jobs running while they run, jobs finished by status (crm_platform.metrics)."""
    from prometheus_client import REGISTRY

    kind = f"metrics-demo-{time.monotonic_ns()}"  # a kind of this test alone: the registry is the process's
    running_during = []

    def step(job, item):
        running_during.append(REGISTRY.get_sample_value("crm_jobs_running", {"kind": kind}))
        if item == "bad":
            raise ValueError("cannot do bad")

    store.submit("acct-1", kind, ["a", "bad", "c"], {})
    runner = JobRunner(store, {kind: step}, save_every_s=0)
    assert runner.run_job(store.claim_next([kind], runner.owner, timedelta(seconds=60)), threading.Event()) == "done"

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, {"kind": kind, **labels})

    assert running_during == [1, 1, 1] and value("crm_jobs_running") == 0
    assert (value("crm_job_items_total", outcome="succeeded"), value("crm_job_items_total", outcome="failed")) == (2, 1)
    assert value("crm_jobs_finished_total", status="done") == 1
