"""The outbox relay: publishes stored, unpublished commits to Kafka in order.

Writes never wait for Kafka: they store a commit (`published: false`) and a
small notice in the `outbox` collection. This relay reads the notices, sends
the commits' events (key = aggregate id, so one aggregate stays in one
partition and in order), waits for the broker's acknowledgement (acks=all,
idempotent producer), then marks the commits published and deletes the
notices. If Kafka is down, notices pile up and are sent when it returns. A
crash between "sent" and "marked" re-sends a commit: consumers are
idempotent, so that is harmless.

A writer that died between its commit and its notice, or met a database outage
there, leaves a commit without a notice: a sweep at start-up, after the relay
itself met a database outage, and then hourly finds those (on FerretDB it reads
the whole event store, hence rarely), and before any commit is sent, its
aggregate's previous commit is checked (and sent first if it was not), so
per-aggregate order holds even then. A commit Kafka refuses for good (larger
than the broker takes: stored before the event store bounded events) is set
aside with its reason (`unsendable`, and a record in `<commits>.unsendable` for
operators) instead of blocking every later commit. A notice carries its commit's events, so
the relay reads the large commits collection only to check the predecessor of
a commit past an aggregate's first, and commits are marked published every
few thousand (or when there is nothing to send: then by `_id` each, see mark_published).
The commits of a bulk append (an import's batch) are not marked when sent whole:
once the relay holds every notice of their batch and has sent them, it deletes
the notices and the batch's record in two statements (event_store.py,
MongoEventStore.batches); those of a batch sent in parts are marked one by one,
and the sweep writes the notices a batch's writer never did.

A batch that lasts longer than the lease (a slow broker, slow predecessor reads)
renews it in the database as it goes (after each notice and commit, and while
waiting for the broker), and stops with LeaseLost before sending more if
another relay holds it by then: two relays never send one batch side by side.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Callable

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from pymongo.errors import PyMongoError

from crm_platform.event_store import MongoEventStore, commit_key
from crm_platform.leases import Lease
from crm_platform.liveness import still_working
from crm_platform.metrics import OUTBOX_BACKLOG, OUTBOX_EVENTS_RELAYED, OUTBOX_OLDEST_AGE
from crm_platform.mongo import delete_by_ids, update_by_ids

log = logging.getLogger(__name__)
STANDBY_WAIT_S = 0.5
IDLE_MAX_S = 0.1  # the longest an idle relay waits before looking at its outbox again
IDLE_GROWTH = 1.25  # each empty look waits this much longer than the last (20 ms to 100 ms in about 0.4 s)
MARK_CHUNK = 100  # commits marked published between two words to the liveness check
# A bulk append whose notices were never all written keeps its record (its commits then count as unsent until
# each is marked) this long at least: its writer cannot still be inserting commits of it after that
UNNOTICED_BATCH_KEPT = timedelta(days=1)
BACKLOG_COUNT_EVERY_S = 30.0  # a backlog above a batch is counted this often (see _estimated_backlog)


class OutboxRelay:
    def __init__(
        self,
        store: MongoEventStore,
        topic: str,
        producer_factory: Callable[[], KafkaProducer],
        lease: Lease,
        batch_size: int = 2000,
        send_timeout_s: float = 30.0,
        sweep_every_s: float = 3600.0,
        sweep_grace_s: float = 10.0,
        mark_every: int = 5000,
    ) -> None:
        self._store = store
        self._topic = topic
        self._producer_factory = producer_factory
        self._producer: KafkaProducer | None = None
        self._lease = lease
        self._batch_size = batch_size
        self._send_timeout_s = send_timeout_s
        self._sweep_every_s = sweep_every_s
        self._sweep_grace = timedelta(seconds=sweep_grace_s)
        self._next_sweep = 0.0
        self._published_recently: OrderedDict[str, None] = OrderedDict()
        self._mark_every = mark_every
        self._unmarked: list[str] = []  # sent and acknowledged, notice deleted, `published` not yet set
        self._standing_by = False  # another relay holds the lease
        self._oldest_since_drained: datetime | None = None  # while the backlog exceeds a batch (_report_backlog)
        self._counted: tuple[float, int] | None = None  # (when, how many) the outbox last counted, while above a batch
        self._sent_since_count = 0

    def publish_pending(self) -> int:
        """Publish one batch of unpublished commits; return how many were marked published."""
        if not self._lease.acquire_or_renew():
            self.mark_published()  # another relay takes over: leave it nothing to send again
            self._standing_by = True
            self._forget_backlog()  # the lease holder reports it; a stale figure here would mislead
            return 0
        self._standing_by = False
        if time.monotonic() >= self._next_sweep:
            self.sweep()
        # No sort: FerretDB would decode the whole backlog to sort it; per-aggregate order comes from
        # the predecessor check, which sends an earlier commit of the same aggregate first.
        notices = list(self._store.outbox.find({}).limit(self._batch_size))
        self._report_backlog(notices)
        notices, whole = self._with_whole_batches(notices)
        batch: list[dict] = []
        for notice in notices:
            self._hold_lease()
            commit = notice if "events" in notice else self._store.commits.find_one({"_id": notice["_id"]})
            if commit is None or commit.get("published") or notice["_id"] in self._published_recently:
                self._store.outbox.delete_one({"_id": notice["_id"]})
                continue
            self._queue_with_predecessors(commit, batch)
        if not batch:
            self.mark_published()
            return 0
        refused = self._send(batch)
        for commit in batch:
            if commit["_id"] in refused:
                self._set_aside(commit, refused[commit["_id"]])
        ids = [commit["_id"] for commit in batch if commit["_id"] not in refused]
        OUTBOX_EVENTS_RELAYED.labels(self._topic).inc(sum(len(c["events"]) for c in batch if c["_id"] not in refused))
        whole = {number: of for number, of in whole.items()
                 if not any(c.get("batch") == number for c in batch if c["_id"] in refused)}
        for number in whole:  # sent whole: its notices and record go, and its commits count as published
            self._store.outbox.delete_many({"batch": number})  # one indexed equality
            self._store.batches.delete_one({"_id": number})
        one_by_one = [c["_id"] for c in batch if c["_id"] not in refused and c.get("batch") not in whole]
        delete_by_ids(self._store.outbox, one_by_one)  # an `_id` equality each: FerretDB reads it all for an `$in`
        for commit_id in ids:
            self._remember_published(commit_id)
        self._unmarked.extend(one_by_one)
        self._sent_since_count += len(ids)
        if len(self._unmarked) >= self._mark_every:
            self.mark_published()
        return len(batch)

    def _with_whole_batches(self, notices: list[dict]) -> tuple[list[dict], dict[int, int]]:
        """The notices read, with the rest of each bulk batch they hold part of (an import's: one indexed
        equality on `batch` each), and the batches whose every notice is now in hand, with their size: those are
        forgotten by batch once sent, in two statements, where the others take two per commit (its notice
        deleted, then `published` set on it). A batch whose notices are still being written (its record not
        `noticed` yet, within the sweep's grace) waits for the next round rather than go commit by commit; one
        some of whose notices are gone (sent already, or never written) is handled commit by commit."""
        held: dict[int, list[dict]] = {}
        for notice in notices:
            if notice.get("batch") is not None and notice.get("of"):
                held.setdefault(notice["batch"], []).append(notice)
        read = {notice["_id"] for notice in notices}
        writing = set()
        for number, batch in held.items():
            if len(batch) < batch[0]["of"]:
                # its record first: once noticed, every notice is readable. Asked after the rest of the batch is
                # read, it could say noticed about notices written after that read (FerretDB writes 500 in
                # parts), and a whole batch went commit by commit: 2,000 commits of each 10,000-row import.
                still_written = self._still_written(number)
                for notice in self._store.outbox.find({"batch": number}, batch_size=batch[0]["of"] + 1):
                    if notice["_id"] not in read:
                        read.add(notice["_id"])
                        notices.append(notice)
                        batch.append(notice)
                if len(batch) < batch[0]["of"] and still_written:
                    writing.add(number)
        if writing:
            notices = [notice for notice in notices if notice.get("batch") not in writing]
        return notices, {number: len(batch) for number, batch in held.items()
                         if number not in writing and len(batch) == batch[0]["of"]}

    def _still_written(self, number: int) -> bool:
        """Whether the writer of this bulk append may still be writing its notices: its record not noticed yet, and
        younger than the sweep's grace (after which the sweep writes what is missing)."""
        record = self._store.batches.find_one({"_id": number}, {"noticed": 1, "recorded_at": 1})
        return (record is not None and not record.get("noticed")
                and _aware(record["recorded_at"]) > datetime.now(timezone.utc) - self._sweep_grace)

    def _report_backlog(self, notices: list[dict]) -> None:
        """The backlog and the age of its oldest commit, from the notices just read: no query of its own
        unless the batch is full (then the notices are counted by the collection's estimate, now and then).

        The notices are read unsorted (a sort is not pushed down on FerretDB: it would decode the whole
        backlog), so a full batch is a sample: the commits not read may be older. Until the backlog fits in
        one batch again, the age is that of the oldest commit read since it last did (it may have been sent
        since: the figure errs on the old side, never the young); once it fits, the figure is exact."""
        waiting = len(notices)
        recorded = [_aware(n["recorded_at"]) for n in notices if n.get("recorded_at") is not None]
        oldest = min(recorded) if recorded else None
        if waiting >= self._batch_size:
            waiting = max(waiting, self._estimated_backlog())
            if oldest is not None and (self._oldest_since_drained is None or oldest < self._oldest_since_drained):
                self._oldest_since_drained = oldest
            oldest = self._oldest_since_drained
        else:
            self._oldest_since_drained = None
            self._counted = None
        OUTBOX_BACKLOG.labels(self._topic).set(waiting)
        OUTBOX_OLDEST_AGE.labels(self._topic).set(
            max(0.0, (datetime.now(timezone.utc) - oldest).total_seconds()) if oldest is not None else 0.0)

    def _estimated_backlog(self) -> int:
        """The outbox counted at most every BACKLOG_COUNT_EVERY_S, and in between that count less the commits sent
        since: on FerretDB a count reads every notice with its events (1-3 s of PostgreSQL time each with an
        import's 10,000 waiting, where a batch goes out every few seconds). Between counts it errs low by the
        commits written since (while writers outpace the relay, up to 30 s of them), never below the batch read."""
        now = time.monotonic()
        if self._counted is None or now - self._counted[0] >= BACKLOG_COUNT_EVERY_S:
            self._counted = (now, self._store.outbox.estimated_document_count())
            self._sent_since_count = 0
        return self._counted[1] - self._sent_since_count

    def _forget_backlog(self) -> None:
        self._oldest_since_drained = None
        self._counted = None  # another relay sends meanwhile: count again when the lease comes back
        for gauge in (OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE):
            try:
                gauge.remove(self._topic)
            except KeyError:  # never reported by this relay
                pass

    def mark_published(self) -> None:
        """Set `published` on the commits sent since the last time.

        A few (after single writes) by `_id` each, which FerretDB pushes down to
        an index; many (an import, a person's erasure) the same way, on a few
        threads (update_by_ids): one `$in` made FerretDB read every commit ever
        stored (12 s at 31,000 commits), and one bulk write of many equalities
        left FerretDB 1.24 without an answer (docs/figures.md). Until then the notices are
        gone and `_published_recently` answers the predecessor checks; if the
        relay dies first, the sweep at start-up sends those commits again, which
        idempotent consumers take in their stride.
        """
        if not self._unmarked:
            return
        published = {"$set": {"published": True, "published_at": datetime.now(timezone.utc)}}
        for start in range(0, len(self._unmarked), MARK_CHUNK):  # an indexed equality each, never a scan
            update_by_ids(self._store.commits, self._unmarked[start:start + MARK_CHUNK], published)
            still_working()
        self._unmarked = []

    def _set_aside(self, commit: dict, reason: str) -> None:
        """Record a commit Kafka will never take, so that it stops holding up the others."""
        log.error("commit set aside: Kafka refuses it for good", extra={"commit": commit["_id"], "error": reason})
        self._store.commits.update_one({"_id": commit["_id"]}, {"$set": {"unsendable": reason}})
        self._store.unsendable.update_one({"_id": commit["_id"]}, {"$set": {
            "aggregate_id": commit["aggregate_id"], "reason": reason, "at": datetime.now(timezone.utc)}}, upsert=True)
        self._store.outbox.delete_one({"_id": commit["_id"]})
        self._remember_published(commit["_id"])  # its successors need not wait for it

    def _sweep_after_database_outage(self) -> None:
        """A database outage is when writers store a commit and then fail to write its notice (the write counts as
        done: event_store.append): sweep once the commits of the outage are older than the sweep's grace, not an
        hour later. Kafka outages leave no such commit, and a sweep reads the whole event store on FerretDB."""
        self._next_sweep = min(self._next_sweep, time.monotonic() + self._sweep_grace.total_seconds() + 1.0)

    def sweep(self) -> int:
        """Give a notice to every commit left unpublished without one (a writer died in between)."""
        self._next_sweep = time.monotonic() + self._sweep_every_s
        self.mark_published()  # what this relay sent is not an orphan
        cutoff = datetime.now(timezone.utc) - self._sweep_grace
        found = 0
        orphans = self._store.commits.find({"published": False, "unsendable": {"$exists": False},
                                            "recorded_at": {"$lt": cutoff}}, {"position": 1, "recorded_at": 1})
        for commit in orphans:
            found += self._give_notice(commit)
            still_working()  # on FerretDB this reads the whole event store: it may outlast the stuck-loop bound
        found += self._sweep_batches(cutoff)
        if found:
            log.warning("sweep found unpublished commits without a notice", extra={"commits": found})
        return found

    def _give_notice(self, commit: dict) -> int:
        """A notice for this commit unless it has one; 1 if it got one."""
        return int(self._store.outbox.update_one(
            {"_id": commit["_id"]}, {"$setOnInsert": {"position": commit["position"],
                                                      "recorded_at": commit.get("recorded_at")}}, upsert=True
        ).upserted_id is not None)

    def _sweep_batches(self, cutoff: datetime) -> int:
        """The bulk appends whose notices were never all written (a writer died, or met a database outage, between
        its commits and their notices): a notice (without events: the relay reads the commit) for each commit of
        theirs not marked published; how many. Such a batch's record stays un-noticed, so that a commit of it
        whose notice is gone never counts as sent (batch_published) until it is marked, one by one as the relay
        sends it; the record goes once every commit seen is marked, a day after the batch (a writer stalled
        longer than that is not waited for). The record of a batch noticed but sent commit by commit (never whole
        in one relay batch) goes once none of its notices is left."""
        found = 0
        for record in self._store.batches.find({}):
            recorded_at = _aware(record["recorded_at"])
            if recorded_at >= cutoff:
                continue
            if not record.get("noticed"):
                unsent = [commit for commit in self._store.commits.find(
                    {"batch": record["_id"]}, {"position": 1, "recorded_at": 1, "published": 1, "unsendable": 1})
                    if not commit.get("published") and not commit.get("unsendable")]
                for commit in unsent:
                    found += self._give_notice(commit)
                if not unsent and recorded_at < datetime.now(timezone.utc) - UNNOTICED_BATCH_KEPT:
                    self._store.batches.delete_one({"_id": record["_id"]})
            elif self._store.outbox.find_one({"batch": record["_id"]}, {"_id": 1}) is None:
                self._store.batches.delete_one({"_id": record["_id"]})
            still_working()
        return found

    def _queue_with_predecessors(self, commit: dict, batch: list[dict]) -> None:
        queued = {c["_id"] for c in batch}
        chain = [commit]
        while (previous := self._unpublished_predecessor(chain[-1])) is not None and previous["_id"] not in queued:
            chain.append(previous)
        batch.extend(c for c in reversed(chain) if c["_id"] not in queued)

    def _unpublished_predecessor(self, commit: dict) -> dict | None:
        for version in range(commit["version"] - 1, 0, -1):  # nearly always one step: commits hold one event
            key = commit_key(commit["aggregate_id"], version)
            if key in self._published_recently:
                return None
            if (notice := self._store.outbox.find_one({"_id": key})) is not None and "events" in notice:
                return notice  # unpublished, and the notice holds what to send
            previous = self._store.commits.find_one({"_id": key})
            if previous is not None:  # with a sweep's notice (no events): unsent unless marked since
                sent = previous.get("published") if notice is not None else self._published(previous)
                return None if sent or previous.get("unsendable") else previous
        return None

    def _published(self, commit: dict) -> bool:
        """Whether a commit whose notice is gone was sent: marked so, or of a bulk append that got its notices."""
        if commit.get("published"):
            return True
        return "published" not in commit and "batch" in commit and self._store.batch_published(commit)

    def _remember_published(self, commit_id: str, keep: int = 10_000) -> None:
        self._published_recently[commit_id] = None
        if len(self._published_recently) > keep:
            self._published_recently.popitem(last=False)

    def _send(self, batch: list[dict]) -> dict[str, str]:
        """Send the batch and wait for the broker; the commits it refuses for good, with why.

        RelayError if anything else is not acknowledged (an outage: the batch is sent again).
        """
        producer = self._ensure_producer()
        futures, refused = [], {}
        for commit in batch:
            self._hold_lease()
            for event in commit["events"]:
                try:
                    futures.append((commit["_id"], producer.send(
                        self._topic,
                        key=commit["aggregate_id"].encode(),
                        value=json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str).encode(),
                        headers=[("event_type", event["event_type"].encode()), ("event_id", event["event_id"].encode())],
                    )))
                except KafkaError as exc:  # raised at once for a record over the producer's limit
                    if exc.retriable:
                        raise
                    refused[commit["_id"]] = repr(exc)
        self._flush(producer)
        for commit_id, future in futures:
            if future.failed() and not future.exception.retriable:
                refused[commit_id] = repr(future.exception)
        errors = [f.exception for commit_id, f in futures if f.failed() and commit_id not in refused]
        if errors or not all(f.is_done for _, f in futures):
            cause = repr(errors[0]) if errors else "no acknowledgement before the timeout"
            raise RelayError(f"Kafka did not acknowledge a batch of {len(batch)} commits: {cause}")
        return refused

    def _flush(self, producer: KafkaProducer) -> None:
        """Wait for the broker up to the send timeout, renewing the lease meanwhile (the timeout may exceed it)."""
        deadline = time.monotonic() + self._send_timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                producer.flush(timeout=min(left, self._lease.ttl.total_seconds() / 4))
                return
            except KafkaTimeoutError:  # not all acknowledged yet: _send tells what was
                self._hold_lease()

    def _standby_wait(self) -> float:
        """How long a relay without the lease waits before asking again (each ask is a database write): a
        few times a second, and a tenth of the lease, so it takes over soon after the holder stops renewing."""
        return min(STANDBY_WAIT_S, self._lease.ttl.total_seconds() / 10)

    def _hold_lease(self) -> None:
        """Keep the lease through a long batch (a database write once past half its time); LeaseLost if taken."""
        still_working()
        if not self._lease.acquire_or_renew():
            raise LeaseLost("another relay took the lease over during a batch; it sends what is left")

    def _ensure_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def reset_producer(self) -> None:
        """Drop the producer after a failure, with the records it has not delivered; the next batch builds a
        fresh one and sends them again."""
        if self._producer is not None:
            try:
                _drop_undelivered(self._producer)
                self._producer.close(timeout=1)
            except Exception:  # closing a broken producer must not hide the original error
                log.exception("closing the Kafka producer failed")
            self._producer = None

    def run(self, stop: threading.Event, idle_interval_s: float = 0.02, max_backoff_s: float = 5.0,
            idle_max_s: float = IDLE_MAX_S) -> None:
        """Publish until `stop` is set; survive Kafka and MongoDB outages with capped backoff.

        With nothing to send, it looks again after `idle_interval_s`, then a little later each time, up to
        `idle_max_s`, and again after `idle_interval_s` once it sent something: a relay of a quiet service
        asks its outbox 10 times a second, not 50 (every service has one: on FerretDB the five idle relays'
        polls were a fifth of make run's CPU at rest, and took it from the one service at work)."""
        backoff = idle_interval_s
        idle_wait = idle_interval_s
        while not stop.is_set():
            try:
                published = self.publish_pending()
                backoff = idle_interval_s
                if published:
                    idle_wait = idle_interval_s
                    continue
                wait = self._standby_wait() if self._standing_by else idle_wait
                idle_wait = min(idle_max_s, idle_wait * IDLE_GROWTH)
            except LeaseLost:
                log.warning("outbox relay lost its lease during a batch; standing by", extra={"topic": self._topic})
                self.reset_producer()
                self._standing_by = True
                wait = self._standby_wait()
            except Exception as exc:  # the relay must outlive any outage, standing by or not; it logs and backs off
                log.exception("outbox relay failed; retrying", extra={"topic": self._topic, "retry_in_s": backoff})
                if isinstance(exc, PyMongoError):
                    self._sweep_after_database_outage()
                self.reset_producer()
                backoff = min(max_backoff_s, max(backoff * 2, 0.5))
                wait = backoff
            stop.wait(wait)
        try:
            self.mark_published()
        except Exception:  # stopping during an outage: the start-up sweep sends them again
            log.exception("could not mark the last commits published", extra={"topic": self._topic})
        self.reset_producer()
        self._lease.release()


def _drop_undelivered(producer: KafkaProducer) -> None:
    """Make a producer being dropped fail the records it has not delivered, never deliver them later.

    The relay sends every commit the broker did not acknowledge again, with a new producer: a record the old one
    delivered afterwards would be published twice. kafka-python (3.0.12) has no public way to drop them: close()
    flushes first and raises KafkaTimeoutError while records are pending (the broker is down), so it never reaches
    its own force-close, and the sender thread goes on retrying them up to their delivery timeout, delivering them
    if the broker is back by then. Hence its private sender's force_close(): the thread stops at its next wake-up,
    fails every queued and in-flight batch without sending it and closes its connections (close() then waits for
    it). Only a request already written to a live broker can still land: the broker alone knows."""
    force_close = getattr(getattr(producer, "_sender", None), "force_close", None)
    if force_close is not None:  # None: not kafka-python's producer (a test's wrapper) or a version without it
        force_close()


def _aware(moment: datetime) -> datetime:
    """A stored time as UTC-aware (a client without tz_aware=True reads it naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class RelayError(RuntimeError):
    """Kafka did not acknowledge part of a batch."""


class LeaseLost(RuntimeError):
    """Another relay holds the lease now: this one stops its batch."""
