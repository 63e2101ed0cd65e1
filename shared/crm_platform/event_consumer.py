"""A Kafka consumer loop that applies events idempotently and dead-letters poison messages.

Offsets are committed only after the events before them were applied (or
dead-lettered), so a crash re-delivers rather than skips; handlers are
idempotent, so re-delivery is harmless. They are committed at most once a
second (COMMIT_EVERY_S) and when the loop stops, not after every poll. Errors
split in two kinds:
- the database or broker is down: nothing is wrong with the message, so the
  loop waits and retries it without end (and without committing);
- anything else: the message is retried a few times, then sent to
  `<topic>.dead-letter` with the error in its headers, and the loop moves on.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Callable

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaTimeoutError
from kafka.structs import OffsetAndMetadata
from pymongo.errors import PyMongoError

from crm_platform import request_context
from crm_platform.consumer_lag import LagReporter
from crm_platform.envelope import EventEnvelope, MalformedEvent, envelope_from_json_bytes
from crm_platform.errors import CrmError
from crm_platform.kafka_clients import SILENT_GROUP_REBUILD_S, GroupSilence, StayInGroup, dead_letter_topic
from crm_platform.liveness import reporting_to, still_working
from crm_platform.metrics import CONSUMER_EVENTS_APPLIED, CONSUMER_EVENTS_DEAD_LETTERED
from crm_platform.outages import is_transient

log = logging.getLogger(__name__)

EventHandler = Callable[[EventEnvelope], None]
DEAD_LETTER_CONSUMER_HEADER = "dead_letter_consumer"  # the name of the consumer that gave up on the event
REPLAY_FOR_HEADER = "dead_letter_replay_for"  # on a replayed dead letter: the only consumer that applies it
REPLAYED_FOR_ANOTHER = object()
# Called with a polled batch's envelopes (each parsed once, here; every partition's of the poll) before they
# are handled one by one; what it returns is entered around them: e.g. the personal-data keys of the whole
# batch read at once, and read models that fold events given the batch in bulk (crm_platform.projection_batches),
# the one-by-one handler then skipping what they applied. An outage while entering it is waited out.
BatchContext = Callable[[list[EventEnvelope]], contextlib.AbstractContextManager]
# Offsets of applied events are committed at most this often, and when the loop stops: a commit is a round trip to
# the group's coordinator, which appends it to its log, and one after every poll cost the broker more CPU than the
# events did (some twenty groups; at 40 writes a second through make run, Kafka used 8.1 of the system's 52.7
# CPU-seconds in 30 s, 3.2 with commits a second apart: benchmarks/sustained_writes.py). A crash, a failed commit,
# or a rebalance that moves a partition re-delivers what was applied since the last commit (about a second, and the
# batch in hand): handlers are idempotent. A partition taken away and given back within the interval may have its
# offset set back by the commit that follows: its events come again, never skipped.
COMMIT_EVERY_S = 1.0
COMMIT_TIMEOUT_MS = 5_000  # kafka-python's default is the request timeout, 30 s


class ConsumerLostItsGroup(RuntimeError):
    """The consumer has not heard from its group for too long (kafka_clients.GroupSilence): it is made anew."""


class EventConsumer:
    def __init__(
        self,
        name: str,
        consumer_factory: Callable[[], KafkaConsumer],
        producer_factory: Callable[[], KafkaProducer],
        handler: EventHandler,
        max_attempts: int = 3,
        retry_delay_s: float = 0.2,
        batch_context: BatchContext | None = None,
        lag_every_s: float = 15.0,
        outage_wait_s: float = 1.0,
        commit_every_s: float = COMMIT_EVERY_S,
        rebuild_silent_after_s: float = SILENT_GROUP_REBUILD_S,
    ) -> None:
        self.name = name
        self._consumer_factory = consumer_factory
        self._producer_factory = producer_factory
        self._producer: KafkaProducer | None = None
        self._handler = handler
        self._max_attempts = max_attempts
        self._retry_delay_s = retry_delay_s
        self._batch_context = batch_context
        self.processed = 0
        self.dead_lettered = 0
        self._lag_every_s = lag_every_s
        self._outage_wait_s = outage_wait_s  # between tries of an event or batch while a dependency is unavailable
        self._next_lag_at = 0.0
        self.lag = LagReporter(name)
        self._commit_every_s = commit_every_s
        self._applied: dict = {}  # partition -> the offset after its last event applied, not committed yet
        self._committed: dict = {}  # partition -> the offset this member last committed, while it holds it
        self._commit_due = 0.0
        self._rebuild_silent_after_s = rebuild_silent_after_s  # kafka_clients.GroupSilence

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; rebuild the Kafka consumer after broker failures."""
        while not stop.is_set():
            consumer = None
            try:
                consumer = self._consumer_factory()
                self._committed = {}  # a new member: the group's offsets are what they are now
                silence = GroupSilence(consumer)
                while not stop.is_set():
                    self.poll_once(consumer, stop)
                    self.measure_lag(consumer)
                    if (silent := silence.seconds()) > self._rebuild_silent_after_s:
                        raise ConsumerLostItsGroup(  # wedged by its client, or an outage: a new one either way
                            f"the consumer has not heard from its group for {silent:.0f} s; making a new consumer")
            except Exception:  # the loop must outlive broker outages; it logs and reconnects
                log.exception("consumer failed; reconnecting", extra={"consumer": self.name})
                stop.wait(2.0)
            finally:
                if consumer is not None:
                    self._commit_applied_quietly(consumer)
                    _close_quietly(consumer)
        if self._producer is not None:
            _close_quietly(self._producer)

    def poll_once(self, consumer: KafkaConsumer, stop: threading.Event, timeout_ms: int = 500) -> int:
        """Apply one polled batch and note, per partition, the offset after the last event handled, to commit
        with the others' once COMMIT_EVERY_S has passed since the last commit (or the loop stops).

        However long the batch takes, the consumer stays in its group: it polls (partitions paused)
        between events and whenever a handler says `still_working()` (crm_platform.liveness). Such a
        poll may take part in a rebalance: the records of a partition given to another member meanwhile
        are left to it (it starts from the last commit), neither handled nor committed here.
        """
        handled = 0
        stay_in_group = StayInGroup(consumer)
        polled = {partition: [(record, self._parsed_if_mine(record)) for record in records]
                  for partition, records in consumer.poll(timeout_ms=timeout_ms).items()}
        envelopes = [envelope for parsed in polled.values() for _, envelope in parsed
                     if isinstance(envelope, EventEnvelope)]
        with reporting_to(stay_in_group), reporting_to(lambda: self.measure_lag(consumer)), \
                self._prepared(envelopes, stop):
            for partition, parsed in polled.items():
                done = None
                for record, envelope in parsed:
                    stay_in_group()
                    if partition not in consumer.assignment():
                        break  # revoked: its new owner handles the rest
                    if envelope is REPLAYED_FOR_ANOTHER:
                        done = record
                        continue
                    if not self._handle_record(record, envelope, stop):
                        break  # stopping: the rest stays uncommitted and will be re-delivered
                    done = record
                    handled += 1
                if done is not None and partition in consumer.assignment():
                    noted = self._applied.get(partition)  # a partition handled again from an older offset keeps it
                    if noted is None or noted.offset <= done.offset:
                        self._applied[partition] = OffsetAndMetadata(done.offset + 1, "", -1)
                if stop.is_set():
                    break
        self._commit_applied_or_later(consumer, now=stop.is_set())
        return handled

    def _commit_applied_or_later(self, consumer: KafkaConsumer, now: bool = False) -> None:
        """Commit when due (or `now`); a commit that timed out (a coordinator moving, a broker pausing) is tried
        again at the next due time, or before the consumer is closed, with what was applied meanwhile, rather than
        rebuilding the consumer (a rebalance of its group). A commit Kafka refuses (the member dropped from its
        group) is raised: the consumer is rebuilt."""
        try:
            self._commit_applied(consumer, now)
        except KafkaTimeoutError:
            log.warning("committing offsets timed out; will commit them later", extra={"consumer": self.name})

    def _commit_applied(self, consumer: KafkaConsumer, now: bool = False) -> None:
        """Commit the offsets after the events applied since the last commit, once `commit_every_s` has passed
        since it (or `now`). Those of a partition no longer assigned are dropped: its new owner starts from its
        last commit and handles those events again."""
        if not self._applied or not (now or time.monotonic() >= self._commit_due):
            return
        applied, self._applied = self._applied, {}
        self._commit_due = time.monotonic() + self._commit_every_s
        assigned = consumer.assignment()
        self._committed = {partition: offset for partition, offset in self._committed.items()
                           if partition in assigned}
        mine = {partition: offset for partition, offset in applied.items()  # never behind what it committed itself
                if partition in assigned and offset.offset > self._committed.get(partition, -1)}
        if mine:  # bounded: a loop stopping, or closing a consumer, during a broker outage must not hang on it
            try:
                consumer.commit(mine, timeout_ms=COMMIT_TIMEOUT_MS)
            except KafkaTimeoutError:
                self._applied = mine  # to commit later, with what is applied meanwhile
                raise
            self._committed.update({partition: offset.offset for partition, offset in mine.items()})

    def _commit_applied_quietly(self, consumer: KafkaConsumer) -> None:
        """Before a consumer is closed (stopping, or rebuilt after a failure): what it applied, if it still can."""
        try:
            self._commit_applied(consumer, now=True)
        except Exception:  # a consumer that failed may not commit; its events come again, to idempotent handlers
            log.debug("committing before closing failed", exc_info=True, extra={"consumer": self.name})
            self._applied = {}

    def measure_lag(self, consumer: KafkaConsumer) -> None:
        """Measure the group's lag if the last measurement is `lag_every_s` old: between polls, and from
        still_working() (same thread: a KafkaConsumer is not thread-safe) while a batch waits out an outage,
        so that the lag grows on the dashboard while nothing is handled."""
        if time.monotonic() >= self._next_lag_at:
            self._next_lag_at = time.monotonic() + self._lag_every_s
            self.lag.report(consumer)

    def _parsed_if_mine(self, record) -> EventEnvelope | MalformedEvent | object:
        """The record's envelope, or REPLAYED_FOR_ANOTHER: a dead letter replayed to the consumer that gave up on
        it (crm_platform.dead_letters), which the other consumers of the topic applied already."""
        for name, value in record.headers or []:
            if name == REPLAY_FOR_HEADER and value != self.name.encode():
                return REPLAYED_FOR_ANOTHER
        return _parsed(record)

    @contextlib.contextmanager
    def _prepared(self, envelopes: list[EventEnvelope], stop: threading.Event):
        with contextlib.ExitStack() as stack:
            while self._batch_context is not None and envelopes and not stop.is_set():
                try:
                    stack.enter_context(self._batch_context(envelopes))
                    break
                except Exception as exc:  # an outage is waited out; else the events go one by one anyway
                    if is_transient(exc):
                        log.warning("dependency unavailable; will prepare the batch again", extra={
                            "consumer": self.name, "error": _described(exc)})
                        stop.wait(self._outage_wait_s)
                        still_working()  # an outage may outlast max_poll_interval: stay in the group meanwhile
                        continue
                    log.warning("could not prepare a batch; handling its events one by one", exc_info=True,
                                extra={"consumer": self.name})
                    break
            yield

    def _handle_record(self, record, envelope: EventEnvelope | MalformedEvent, stop: threading.Event) -> bool:
        if isinstance(envelope, MalformedEvent):
            self._dead_letter(record, envelope, attempts=1)
            return True
        trace = request_context.TraceContext(
            request_id=request_context.new_id(),
            correlation_id=envelope.correlation_id or envelope.event_id,
            causation_id=envelope.event_id,
            actor=envelope.actor,
        )
        attempts = 0
        while not stop.is_set():
            attempts += 1
            try:
                with request_context.tracing(trace):
                    self._handler(envelope)
                self.processed += 1
                CONSUMER_EVENTS_APPLIED.labels(self.name, record.topic).inc()
                return True
            except Exception as exc:  # an outage is waited out; anything else is retried a few times, then dead-lettered
                if is_transient(exc):
                    log.warning("dependency unavailable; will retry the event", extra=_where(record, exc))
                    attempts = 0
                    stop.wait(self._outage_wait_s)
                    still_working()  # an outage may outlast max_poll_interval: stay in the group meanwhile
                    continue
                if attempts >= self._max_attempts:
                    self._dead_letter(record, exc, attempts)
                    return True
                log.warning("event handler failed; retrying", extra=_where(record, exc))
                time.sleep(self._retry_delay_s * attempts)
        return False

    def _dead_letter(self, record, error: BaseException, attempts: int) -> None:
        if self._producer is None:
            self._producer = self._producer_factory()
        headers = list(record.headers or []) + [
            ("dead_letter_error", _described(error)[:2000].encode()),
            ("dead_letter_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            (DEAD_LETTER_CONSUMER_HEADER, self.name.encode()),
            ("dead_letter_attempts", str(attempts).encode()),
        ]
        future = self._producer.send(dead_letter_topic(record.topic), key=record.key, value=record.value, headers=headers)
        future.get(timeout=30)  # raises if Kafka refuses: then nothing is committed and it is retried
        self.dead_lettered += 1
        CONSUMER_EVENTS_DEAD_LETTERED.labels(self.name, record.topic).inc()
        log.error("event dead-lettered", extra=_where(record, error))


def _parsed(record) -> EventEnvelope | MalformedEvent:
    try:
        return envelope_from_json_bytes(record.value)
    except MalformedEvent as exc:
        return exc


def _where(record, error: BaseException) -> dict:
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "error": _described(error),
    }


def described_error(error: BaseException) -> str:
    """The error for the dead-letter header and logs, which erasure does not reach: a database's message can
    quote the value it refused (decrypted personal data in a projection write), a CrmError's detail the value
    it found wrong, so those give their type and code only. Loops that must survive log errors with it (never
    with a traceback, whose messages it would not scrub)."""
    if isinstance(error, PyMongoError):
        return f"{type(error).__name__}: code {getattr(error, 'code', None)}"
    if isinstance(error, CrmError):
        return f"{type(error).__name__}: {error.slug}"
    return f"{type(error).__name__}: {error}"


_described = described_error


def _close_quietly(client) -> None:
    try:
        client.close()
    except Exception:  # a broken client may fail to close; the original error was logged
        log.debug("closing a Kafka client failed", exc_info=True)

