"""Long-running jobs with progress: stored in MongoDB, run by a worker loop, cancellable, resumable.

The API stores a job (`queued`) and answers 202 with its URL; a worker claims
it (compare-and-set on its status), works through its items and records
progress as it goes. A worker that dies leaves a `running` job whose heartbeat
goes stale; another worker takes it over and resumes from the recorded
position, so a job's step must be idempotent (re-doing an item is harmless).
"""
from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, TypeVar

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.errors import NotFound
from crm_platform.metrics import JOB_ITEMS, JOBS_FINISHED, JOBS_RUNNING
from crm_platform.outages import is_transient

log = logging.getLogger(__name__)

# (job, item) -> None, or a dict of counts to add to the job's `counts` (e.g. rows created in a batch);
# raises to record a failed item
ItemStep = Callable[[dict, object], dict | None]
MAX_ERRORS_KEPT = 100
T = TypeVar("T")


class CommandStep:
    """A job step that sends one command per item through the message bus (any object with `handle`)."""

    def __init__(self, bus, to_command: Callable[[dict, object], object]) -> None:
        self._bus = bus
        self._to_command = to_command

    def __call__(self, job: dict, item: object) -> None:
        self._bus.handle(self._to_command(job, item))


class JobNotFound(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} does not exist in this account", job_id=job_id)


class JobStore:
    def __init__(self, collection: Collection) -> None:
        self._jobs = collection

    def ensure_indexes(self) -> None:
        self._jobs.create_index([("status", ASCENDING), ("created_at", ASCENDING)], name="status")

    def submit(self, account_id: str, kind: str, items: list, params: dict) -> dict:
        """Store a queued job over `items`; the worker runs it."""
        now = _now()
        job = {"_id": f"job:{uuid.uuid4()}", "account_id": account_id, "kind": kind, "params": params,
               "items": items, "status": "queued", "total": len(items), "processed": 0, "succeeded": 0,
               "failed": 0, "errors": [], "counts": {}, "cancel_requested": False, "created_at": now, "updated_at": now}
        self._jobs.insert_one(job)
        return job

    def get(self, account_id: str, job_id: str) -> dict:
        job = self._jobs.find_one({"_id": job_id}, {"items": 0})
        if job is None or job["account_id"] != account_id:
            raise JobNotFound(job_id)
        return job

    def request_cancel(self, account_id: str, job_id: str) -> dict:
        self.get(account_id, job_id)
        self._jobs.update_one({"_id": job_id}, {"$set": {"cancel_requested": True, "updated_at": _now()}})
        return self.get(account_id, job_id)

    def claim_next(self, kinds: list[str], owner: str, stale_after: timedelta) -> dict | None:
        """Take a queued job, or a running one whose worker stopped beating; None if there is none."""
        stale = _now() - stale_after
        candidates = self._jobs.find(
            {"kind": {"$in": kinds}, "$or": [{"status": "queued"}, {"status": "running", "heartbeat_at": {"$lt": stale}}]},
            {"status": 1, "heartbeat_at": 1},
        ).sort("created_at", ASCENDING).limit(5)
        for candidate in candidates:
            taken = self._jobs.find_one_and_update(
                {"_id": candidate["_id"], "status": candidate["status"], "heartbeat_at": candidate.get("heartbeat_at")},
                {"$set": {"status": "running", "owner": owner, "heartbeat_at": _now(), "updated_at": _now()}},
            )
            if taken is not None:
                return self._jobs.find_one({"_id": candidate["_id"]})
        return None

    def record(self, job_id: str, owner: str, progress: dict, status: str = "running") -> bool:
        """Save progress (and heartbeat); False if the job was taken over or cancellation was asked."""
        result = self._jobs.find_one_and_update(
            {"_id": job_id, "owner": owner},
            {"$set": {**progress, "status": status, "heartbeat_at": _now(), "updated_at": _now()}},
        )
        return result is not None and not result.get("cancel_requested")


class JobRunner:
    """Runs jobs of the given kinds, one item at a time, recording progress at most every `save_every_s`."""

    def __init__(self, store: JobStore, steps: dict[str, ItemStep], stale_after: timedelta = timedelta(seconds=60),
                 save_every_s: float = 0.5, retry_first_s: float = 0.5) -> None:
        self._store = store
        self._retry_first_s = retry_first_s
        self._steps = steps
        self._stale_after = stale_after
        self._save_every_s = save_every_s
        self.owner = f"{socket.gethostname()}:{uuid.uuid4()}"

    def run(self, stop: threading.Event, idle_s: float = 0.5) -> None:
        """Work until `stop` is set; survive database outages."""
        while not stop.is_set():
            try:
                job = self._store.claim_next(list(self._steps), self.owner, self._stale_after)
                if job is None:
                    stop.wait(idle_s)
                    continue
                self.run_job(job, stop)
            except Exception:  # the loop must outlive outages; it logs and retries
                log.exception("job runner failed; retrying")
                stop.wait(2.0)

    def run_job(self, job: dict, stop: threading.Event) -> str:
        """Work through the job's items from where it stands; return its final status."""
        running = JOBS_RUNNING.labels(job["kind"])
        running.inc()
        try:
            return self._work_through(job, stop)
        finally:
            running.dec()

    def _work_through(self, job: dict, stop: threading.Event) -> str:
        step = self._steps[job["kind"]]
        progress = {k: job[k] for k in ("processed", "succeeded", "failed", "errors")}
        progress["counts"] = dict(job.get("counts") or {})
        last_save = time.monotonic()
        for index in range(job["processed"], job["total"]):
            if stop.is_set():
                return "running"  # another worker resumes it once our heartbeat is stale
            try:
                for name, value in (self._run_item(step, job, index, stop) or {}).items():
                    progress["counts"][name] = progress["counts"].get(name, 0) + value
                progress["succeeded"] += 1
                JOB_ITEMS.labels(job["kind"], "succeeded").inc()
            except _Stopped:
                return "running"
            except Exception as exc:  # one bad item never stops the job: it is reported with its reason
                progress["failed"] += 1
                JOB_ITEMS.labels(job["kind"], "failed").inc()
                if len(progress["errors"]) < MAX_ERRORS_KEPT:
                    progress["errors"].append({"item": index, "error": str(getattr(exc, "detail", exc))})
            progress["processed"] = index + 1
            if time.monotonic() - last_save >= self._save_every_s:
                last_save = time.monotonic()
                try:
                    if not self._waiting_out(lambda: self._store.record(job["_id"], self.owner, progress), job, stop):
                        return self._finish(job, progress, "cancelled", stop)
                except _Stopped:
                    return "running"
        return self._finish(job, progress, "done", stop)

    def _run_item(self, step: ItemStep, job: dict, index: int, stop: threading.Event) -> dict | None:
        """One item; an outage is waited out and the item run again (steps are idempotent), never counted failed."""
        return self._waiting_out(lambda: step(job, job["items"][index]), job, stop, item=index)

    def _waiting_out(self, work: Callable[[], T], job: dict, stop: threading.Event, item: int | None = None) -> T:
        """`work`, run again after each outage it meets (with backoff) until it is done; _Stopped if stopping.

        Progress records too: a runner that gave up on one would leave its job `running` under its name,
        untouched until its heartbeat is stale and another worker resumes it (a minute later).
        """
        wait_s = self._retry_first_s
        while True:
            try:
                return work()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("job waits out an outage", extra={"job": job["_id"], "item": item,
                                                              "error": type(exc).__name__, "retry_in_s": wait_s})
                if stop.wait(wait_s):
                    raise _Stopped() from None
                wait_s = min(wait_s * 2, 30.0)

    def _finish(self, job: dict, progress: dict, status: str, stop: threading.Event) -> str:
        try:
            self._waiting_out(lambda: self._store.record(job["_id"], self.owner, {**progress, "finished_at": _now()},
                                                         status=status), job, stop)
        except _Stopped:
            return "running"  # resumed elsewhere from its last recorded progress (steps are idempotent)
        JOBS_FINISHED.labels(job["kind"], status).inc()
        log.info("job finished", extra={"job": job["_id"], "status": status, **{k: progress[k] for k in ("processed", "failed")}})
        return status


class _Stopped(Exception):
    """The worker is stopping while an item waits out an outage: the job is left for a resume."""


def _now() -> datetime:
    return datetime.now(timezone.utc)
