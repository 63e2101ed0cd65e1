"""Event stores: append a command's events atomically, load an aggregate's history.

Without multi-document transactions, a command's events are stored as ONE
document (a "commit") so that the insert is atomic. Its `_id` is
"<aggregate id>:<first version>", so two writers that started from the same
revision collide on the primary key: one wins, the other gets
ConcurrencyConflict (a unique (aggregate_id, version) index says the same for
readers of the collection). Every read of the hot paths is an `_id` lookup,
which every MongoDB-protocol server serves from its primary key, FerretDB on
SQLite included (it scans for any other filter).

A commit also carries `published: false` and a small notice in the `outbox`
collection; the relay drains the notices (see outbox_relay.py). The commits of
a bulk append (an import's batch) carry their `batch` instead, recorded in
`<commits>.batches` before them (`noticed` once their notices are written):
the relay sends a whole batch and forgets its notices and record in a
statement or two, and a batch's commits are published once its notices are
gone: none of them is updated, unless the batch is sent in parts.
"""
from __future__ import annotations

import abc
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator

from pymongo import ASCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from crm_platform.envelope import EventEnvelope, envelope_from_dict
from crm_platform.errors import Conflict, InvalidInput
from crm_platform.mongo import find_each, insert_all_new, read_each, translated
from crm_platform.query_plans import server_scans_for

log = logging.getLogger(__name__)


class ConcurrencyConflict(Conflict):
    """Another writer appended to the aggregate first."""

    title = "Stale revision"
    slug = "stale-revision"


class EventStore(abc.ABC):
    @abc.abstractmethod
    def append(self, events: list[EventEnvelope]) -> None:
        """Store events of ONE aggregate, numbered consecutively, atomically."""

    def append_many(self, commits: list[list[EventEnvelope]]) -> list[int]:
        """Store many commits (each of one aggregate) at once; return the indexes of those refused as conflicts.

        Each commit is atomic on its own; there is no atomicity across them.
        """
        refused = []
        for index, events in enumerate(commits):
            try:
                self.append(events)
            except ConcurrencyConflict:
                refused.append(index)
        return refused

    @abc.abstractmethod
    def load(self, aggregate_id: str) -> list[EventEnvelope]:
        """Every event of one aggregate, oldest first."""

    def load_each(self, aggregate_ids: list[str]) -> dict[str, list[EventEnvelope]]:
        """Every event of each of these aggregates, oldest first; those without events left out (a bulk `load`)."""
        return {aggregate_id: history for aggregate_id in dict.fromkeys(aggregate_ids)
                if (history := self.load(aggregate_id))}

    @abc.abstractmethod
    def read_all(self, batch_size: int = 500) -> Iterator[EventEnvelope]:
        """Every stored event in commit order (for projection rebuilds)."""

    def head(self, aggregate_id: str) -> StreamHead | None:
        """Whose the aggregate is and its newest version; None if it has no event (for read-your-writes)."""
        history = self.load(aggregate_id)
        if not history:
            return None
        return StreamHead(history[0].account_id, history[0].aggregate_type, history[-1].aggregate_version)

    def written_after(self, aggregate_id: str, version: int) -> bool:
        """Whether the aggregate has an event after `version`, a head it had (0 before its first event): another writer
        came since it was read, or last written, at that version."""
        head = self.head(aggregate_id)
        return head is not None and head.version > version

    def heads(self, aggregate_ids: list[str]) -> dict[str, StreamHead]:
        """The head of each of these aggregates that has events (a bulk `head`)."""
        return {aggregate_id: head for aggregate_id in dict.fromkeys(aggregate_ids)
                if (head := self.head(aggregate_id)) is not None}

    @abc.abstractmethod
    def heads_of_type(self, account_id: str, aggregate_type: str) -> dict[str, int]:
        """Each aggregate of this type in the account -> its newest version (for per-account settings, which are
        few); an indexed read in a real store, never a scan of every event."""


@dataclass(frozen=True)
class StreamHead:
    account_id: str
    aggregate_type: str
    version: int


def recorded_by(history: list[EventEnvelope], moment: datetime) -> list[EventEnvelope]:
    """The events of one aggregate's history (oldest first) recorded at or before `moment` (timezone-aware), for
    a read of the aggregate as it was then: the history up to its first later event, so that what is replayed is
    always a prefix the aggregate really went through, even if clocks disagreed by a few milliseconds."""
    if moment.tzinfo is None:
        raise ValueError("recorded_by needs a timezone-aware moment")
    kept = 0
    while kept < len(history) and history[kept].occurred_at <= moment:
        kept += 1
    return history[:kept]


def commit_key(aggregate_id: str, version: int) -> str:
    """The `_id` of the commit that starts at `version` of an aggregate."""
    return f"{aggregate_id}:{version}"


# Kafka's default message limit is 1 MiB: an event above this could be stored but never published.
MAX_EVENT_BYTES = 768 * 1024


class EventTooLarge(InvalidInput):
    """A change too large to record as one event (it could never be published)."""

    title = "Change too large"
    slug = "change-too-large"


def _check_batch(events: list[EventEnvelope]) -> list[dict]:
    """The events' stored form, once each; ValueError for a malformed commit, EventTooLarge for an oversized event."""
    if not events:
        raise ValueError("append needs at least one event")
    first, stored = events[0], [event.to_dict() for event in events]
    for offset, (event, data) in enumerate(zip(events, stored)):
        if len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_EVENT_BYTES:
            raise EventTooLarge(f"this change would make a {event.event_type} event over {MAX_EVENT_BYTES // 1024} KiB; "
                                "make it smaller (fewer or shorter values)", errors={"_schema": ["too large"]})
        if event.aggregate_id != first.aggregate_id:
            raise ValueError("one commit holds events of one aggregate")
        if event.aggregate_version != first.aggregate_version + offset:
            raise ValueError("event versions of a commit must be consecutive")
    return stored


class MongoEventStore(EventStore):
    """Event store and outbox in one MongoDB collection of commits."""

    def __init__(self, db: Database, collection: str = "event_commits") -> None:
        self._commits: Collection = db[collection]
        self._counters: Collection = db["counters"]
        self._outbox: Collection = db[f"{collection}.outbox"]
        self._unsendable: Collection = db[f"{collection}.unsendable"]
        self._batches: Collection = db[f"{collection}.batches"]
        self._counter_id = f"{collection}.position"

    @property
    def commits(self) -> Collection:
        return self._commits

    @property
    def unsendable(self) -> Collection:
        """Commits Kafka refused for good, with the reason (set aside by the relay, kept for operators)."""
        return self._unsendable

    @property
    def outbox(self) -> Collection:
        """Notices of commits not yet published; small, because the relay deletes them."""
        return self._outbox

    @property
    def batches(self) -> Collection:
        """A record per bulk append not yet sent whole: `{_id: batch, commits, recorded_at, noticed}`; `noticed`
        once its notices are written (until then, or if that failed, the relay's sweep writes them)."""
        return self._batches

    def batch_published(self, commit: dict) -> bool:
        """Whether a commit of a bulk append, unmarked and its notice gone, was sent: its batch got all its notices
        (the relay deletes them once sent), or its record is gone (the relay forgets it once the batch is sent
        whole). A batch never noticed keeps its record: its commits count as sent only once marked."""
        record = self._batches.find_one({"_id": commit["batch"]}, {"noticed": 1})
        return record is None or bool(record.get("noticed"))

    def ensure_indexes(self) -> None:
        """Create the unique (aggregate, version) key and the outbox/read indexes."""
        self._commits.create_index(
            [("aggregate_id", ASCENDING), ("version", ASCENDING)], unique=True, name="aggregate_version_unique"
        )
        self._commits.create_index([("position", ASCENDING)], name="position")
        self._commits.create_index([("account_id", ASCENDING), ("aggregate_type", ASCENDING)], name="account_type")
        self._commits.create_index([("published", ASCENDING), ("recorded_at", ASCENDING)], name="unpublished")
        self._commits.create_index([("batch", ASCENDING)], name="batch")
        self._outbox.create_index([("position", ASCENDING)], name="position")
        self._outbox.create_index([("batch", ASCENDING)], name="batch")

    def append(self, events: list[EventEnvelope]) -> None:
        """Store the commit. An error after which the commit turns out stored (the server applied the insert
        and the answer was lost, or a driver retry met its own first attempt) is no failure: a write that
        succeeded is never reported as failed, so callers never undo what it claimed."""
        stored = _check_batch(events)
        try:
            commit = self._commit_document(events, stored, self._next_positions(1))
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        try:
            self._commits.insert_one(commit)
        except DuplicateKeyError:
            if not self._holds(commit):
                first = events[0]
                raise ConcurrencyConflict(
                    f"{first.aggregate_type} {first.aggregate_id} was changed by someone else "
                    f"(revision {first.aggregate_version - 1} is no longer current)"
                ) from None
        except PyMongoError as exc:
            if not self._holds(commit):
                raise translated(exc, "event store") from None
        try:
            self._outbox.insert_one(_notice(commit))
        except PyMongoError:
            # The commit is stored: the write succeeded. The relay's sweep finds
            # commits without a notice, so the events are published a little later.
            log.warning("outbox notice not written; the relay sweep will publish it", extra={"commit": commit["_id"]})

    def _holds(self, commit: dict) -> bool:
        """Whether this very commit (same first event id) is stored; False if that cannot be read either."""
        try:
            found = self._commits.find_one({"_id": commit["_id"]}, {"events.event_id": 1})
        except PyMongoError:
            return False
        return found is not None and found["events"][0]["event_id"] == commit["events"][0]["event_id"]

    def append_many(self, commits: list[list[EventEnvelope]]) -> list[int]:
        """One position reservation and one bulk insert for all commits (imports): see EventStore.append_many."""
        stored_forms = [_check_batch(events) for events in commits]
        if not commits:
            return []
        try:
            first = self._next_positions(len(commits)) - len(commits) + 1
            # the batch is the first position reserved: no other call's. Its record first: commits of a batch
            # never noticed are found by it (the relay's sweep), not by a `published: false` of each
            documents = [self._commit_document(events, stored_forms[i], first + i, batch=first)
                         for i, events in enumerate(commits)]
            self._batches.insert_one({"_id": first, "commits": len(documents), "noticed": False,
                                      "recorded_at": documents[0]["recorded_at"]})
            refused = insert_all_new(self._commits, documents)
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        refused_set = set(refused)
        stored = [doc for i, doc in enumerate(documents) if i not in refused_set]
        try:
            if stored:
                insert_all_new(self._outbox, [_notice(doc, of=len(stored)) for doc in stored])
                self._batches.update_one({"_id": first}, {"$set": {"noticed": True}})
            else:  # every commit was there already: nothing of this batch to send
                self._batches.delete_one({"_id": first})
        except PyMongoError:
            log.warning("outbox notices not written; the relay sweep will publish them", extra={"commits": len(stored)})
        return refused

    @staticmethod
    def _commit_document(events: list[EventEnvelope], stored: list[dict], position: int,
                         batch: int | None = None) -> dict:
        first = events[0]
        # a commit of a bulk append has its batch, and no `published` of its own (see MongoEventStore.batches)
        sending = {"batch": batch} if batch is not None else {"published": False}
        return {
            "_id": commit_key(first.aggregate_id, first.aggregate_version),
            "aggregate_id": first.aggregate_id,
            "aggregate_type": first.aggregate_type,
            "account_id": first.account_id,
            "version": first.aggregate_version,
            "last_version": events[-1].aggregate_version,
            "position": position,
            "recorded_at": datetime.now(timezone.utc),
            **sending,
            "events": stored,
        }

    def _next_positions(self, count: int) -> int:
        """Reserve `count` positions; return the last. A global, increasing number per commit:
        per-aggregate order follows it, because a later commit of an aggregate is only written
        after reading the earlier one."""
        counter = self._counters.find_one_and_update(
            {"_id": self._counter_id}, {"$inc": {"value": count}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        return int(counter["value"])

    def load(self, aggregate_id: str) -> list[EventEnvelope]:
        """The aggregate's commits in one query (aggregate_id equality, served by the unique index), then followed
        from version 1 commit to commit. Not one `_id` lookup per commit: on FerretDB 1.24 over PostgreSQL each
        lookup is a statement of its own, and an aggregate of 200 commits among 10,000 took 1,095 ms that way
        against 22 ms in one query (2026-12-02); a contact's holdings (one commit per note filed) grew every
        note added slower.

        But FerretDB over SQLite pushes down nothing but `_id`: there the equality decodes every commit ever
        stored, even for an aggregate that does not exist (an import's job loads an account's settings and
        option lists, mostly missing, for each batch of 500 rows: 707 s for a 10,000-row job with 68,000
        contacts stored). Where the server says it scans for the equality (crm_platform.query_plans), loads go
        by `_id`, commit to commit, instead."""
        try:
            if server_scans_for(self._commits, {"aggregate_id": aggregate_id}):
                return _followed(self._chained(aggregate_id))
            commits = {commit["version"]: commit for commit in self._commits.find({"aggregate_id": aggregate_id})}
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        return _followed(commits)

    def _chained(self, aggregate_id: str, projection: dict | None = None) -> dict[int, dict]:
        """The aggregate's commits by `_id`, from version 1 commit to commit, until one is missing (`projection`
        keeps `last_version`)."""
        commits: dict[int, dict] = {}
        version = 1
        while (commit := self._commits.find_one({"_id": commit_key(aggregate_id, version)}, projection)) is not None:
            commits[version] = commit
            version = commit["last_version"] + 1
        return commits

    def _histories(self, aggregate_ids: list[str], projection: dict | None = None) -> dict[str, dict[int, dict]]:
        """Each aggregate's commits by first version: an indexed equality per aggregate id (find_each: overlapping
        round trips, never an `$in`, which scans every commit on FerretDB), or, where the server says it scans for
        that equality (FerretDB over SQLite), load's chain of `_id` lookups per aggregate."""
        ids = list(dict.fromkeys(aggregate_ids))
        if not ids:
            return {}
        if server_scans_for(self._commits, {"aggregate_id": ids[0]}):
            chains = read_each(lambda aggregate_id: self._chained(aggregate_id, projection), ids)
            return {aggregate_id: commits for aggregate_id, commits in zip(ids, chains) if commits}
        by_aggregate: dict[str, dict[int, dict]] = {}
        for commit in find_each(self._commits, "aggregate_id", ids, projection):
            by_aggregate.setdefault(commit["aggregate_id"], {})[commit["version"]] = commit
        return by_aggregate

    def load_each(self, aggregate_ids: list[str]) -> dict[str, list[EventEnvelope]]:
        """Each aggregate's history (`_histories`), followed as `load` follows it."""
        try:
            by_aggregate = self._histories(aggregate_ids)
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        return {aggregate_id: history for aggregate_id in dict.fromkeys(aggregate_ids)
                if (history := _followed(by_aggregate.get(aggregate_id, {})))}

    def head(self, aggregate_id: str) -> StreamHead | None:
        """One indexed read (aggregate_id equality, newest version first), not the whole history; where the server
        scans for that equality, the chain of `_id` lookups, without the events."""
        try:
            if server_scans_for(self._commits, {"aggregate_id": aggregate_id}):
                return _newest(self._chained(aggregate_id, HEAD_FIELDS))
            commit = self._commits.find_one({"aggregate_id": aggregate_id}, {"events": 0},
                                            sort=[("version", -1)])
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        return _newest({0: commit} if commit is not None else {})

    def written_after(self, aggregate_id: str, version: int) -> bool:
        """One primary-key read: `version` ends a commit, so the next commit is the one that starts at `version + 1`."""
        try:
            return self._commits.find_one({"_id": commit_key(aggregate_id, version + 1)}, {"_id": 1}) is not None
        except PyMongoError as exc:
            raise translated(exc, "event store") from None

    def heads(self, aggregate_ids: list[str]) -> dict[str, StreamHead]:
        """Each aggregate's head from its commits (`_histories`): only their versions are read, not their events."""
        try:
            by_aggregate = self._histories(aggregate_ids, HEAD_FIELDS)
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        return {aggregate_id: head for aggregate_id, commits in by_aggregate.items()
                if (head := _newest(commits)) is not None}

    def heads_of_type(self, account_id: str, aggregate_type: str) -> dict[str, int]:
        """Two indexed equalities; only the versions are read, not the events."""
        heads: dict[str, int] = {}
        try:
            for commit in self._commits.find({"account_id": account_id, "aggregate_type": aggregate_type},
                                             {"aggregate_id": 1, "last_version": 1}):
                heads[commit["aggregate_id"]] = max(heads.get(commit["aggregate_id"], 0), commit["last_version"])
        except PyMongoError as exc:
            raise translated(exc, "event store") from None
        return heads

    def read_all(self, batch_size: int = 500) -> Iterator[EventEnvelope]:
        """Every stored event, commits in (position, aggregate, version) order.

        Positions may repeat: FerretDB 1.24 does not apply concurrent `$inc`s atomically (measured: 8 threads,
        700 increments, 192 distinct values), so commits stored at once can share one. The keyset is therefore
        the whole sort key, so that no commit sharing the position that ends a batch is skipped, and an
        aggregate's commits that share one come in version order."""
        order = [("position", ASCENDING), ("aggregate_id", ASCENDING), ("version", ASCENDING)]
        after: dict = {}
        while True:
            batch = list(self._commits.find(after).sort(order).limit(batch_size))
            if not batch:
                return
            for commit in batch:
                yield from (envelope_from_dict(e) for e in commit["events"])
            last = batch[-1]
            after = {"$or": [
                {"position": {"$gt": last["position"]}},
                {"position": last["position"], "aggregate_id": {"$gt": last["aggregate_id"]}},
                {"position": last["position"], "aggregate_id": last["aggregate_id"], "version": {"$gt": last["version"]}},
            ]}


HEAD_FIELDS = {"aggregate_id": 1, "account_id": 1, "aggregate_type": 1, "version": 1, "last_version": 1}  # no events


def _newest(commits: dict[int, dict]) -> StreamHead | None:
    """The head an aggregate's commits end at (None without any)."""
    if not commits:
        return None
    last = max(commits.values(), key=lambda commit: commit["last_version"])
    return StreamHead(last["account_id"], last["aggregate_type"], last["last_version"])


def _followed(commits: dict[int, dict]) -> list[EventEnvelope]:
    """One aggregate's events from its commits (by first version), from version 1 commit to commit."""
    events: list[EventEnvelope] = []
    version = 1
    while (commit := commits.get(version)) is not None:
        events.extend(envelope_from_dict(e) for e in commit["events"])
        version = commit["last_version"] + 1
    return events


def _notice(commit: dict, of: int | None = None) -> dict:
    """The outbox notice: the commit's events travel in it, so the relay never reads the (large) commits. A commit
    stored in bulk (append_many) has its call's `batch`, and its notice says how many commits the batch stored
    (`of`): the relay that holds all of a batch's notices clears and marks them by batch (outbox_relay.py)."""
    # recorded_at: the relay reports the age of the oldest waiting commit from its notices (crm_platform.metrics)
    notice = {key: commit[key] for key in ("_id", "aggregate_id", "version", "position", "recorded_at", "events")}
    if "batch" in commit and of is not None:
        notice.update(batch=commit["batch"], of=of)
    return notice

