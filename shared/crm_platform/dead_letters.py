"""Dead-lettered events: list and inspect them, replay them after a fix, purge them (an operator's tool).

A consumer that cannot apply an event after its retries sends it to `<topic>.dead-letter`, the error
and its own name in headers (event_consumer.py). This reads every dead-letter topic from its first kept
offset and describes each message by its envelope's metadata and the error, never by its payload (which
may hold personal data). A replay republishes a message to its source topic addressed to the consumer
that gave up on it (header `dead_letter_replay_for`): the other consumers of the topic applied it long
ago and skip it. A purge deletes messages from a dead-letter topic with Kafka's DeleteRecords, which
removes everything before an offset of a partition: the whole topic, or a partition through one message.

The command line is crm_platform.dead_letters_cli (docs/operations.md).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from crm_platform.event_consumer import DEAD_LETTER_CONSUMER_HEADER, REPLAY_FOR_HEADER

SUFFIX = ".dead-letter"
HEADER_PREFIX = "dead_letter_"  # the headers a dead-lettering and a replay add; a replay drops the old ones
REPLAY_OF_HEADER = "dead_letter_replay_of"


@dataclass(frozen=True)
class DeadLetter:
    topic: str  # the dead-letter topic
    partition: int
    offset: int
    dead_lettered_at: datetime
    headers: dict[str, str]  # the newest value of each header
    key: bytes | None = field(repr=False)
    value: bytes = field(repr=False)
    original_headers: tuple = field(repr=False, default=())  # as the event had them before it was dead-lettered

    @property
    def ref(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    @property
    def consumer(self) -> str:
        return self.headers.get(DEAD_LETTER_CONSUMER_HEADER, "")

    @property
    def source_topic(self) -> str:
        source = self.headers.get("dead_letter_source", "")
        return source.rsplit("/", 2)[0] if source.count("/") >= 2 else self.topic.removesuffix(SUFFIX)

    @property
    def envelope(self) -> dict:
        """The envelope's metadata (never its payload); {} if the message is not an envelope."""
        try:
            data = json.loads(self.value)
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {name: data.get(name) for name in ("event_type", "event_id", "aggregate_type", "aggregate_id",
                                                   "aggregate_version", "account_id", "occurred_at")}

    def summary(self) -> dict:
        return {"ref": self.ref, "dead_lettered_at": self.dead_lettered_at.isoformat(timespec="seconds"),
                "consumer": self.consumer, "source": self.headers.get("dead_letter_source"),
                "attempts": self.headers.get("dead_letter_attempts"), "error": self.headers.get("dead_letter_error"),
                "replayed_from": self.headers.get(REPLAY_OF_HEADER), **self.envelope}


@dataclass(frozen=True)
class Selection:
    """Which dead letters a command applies to: given refs, or every one matching the filters."""
    refs: frozenset[str] = frozenset()
    consumer: str | None = None
    event_type: str | None = None
    account_id: str | None = None

    def matches(self, letter: DeadLetter) -> bool:
        envelope = letter.envelope
        return ((not self.refs or letter.ref in self.refs)
                and (self.consumer is None or letter.consumer == self.consumer)
                and (self.event_type is None or envelope.get("event_type") == self.event_type)
                and (self.account_id is None or envelope.get("account_id") == self.account_id))


def parse_ref(ref: str) -> tuple[str, int, int]:
    """'<topic>/<partition>/<offset>' -> its parts; ValueError saying what is expected if it is not one."""
    parts = ref.rsplit("/", 2)
    if len(parts) != 3 or not parts[0].endswith(SUFFIX) or not parts[1].isdigit() or not parts[2].isdigit():
        raise ValueError(f"not a dead letter: {ref!r} (expected <topic>{SUFFIX}/<partition>/<offset>)")
    return parts[0], int(parts[1]), int(parts[2])


class ReplayFailed(Exception):
    """Kafka refused some replays: they were not sent (do not purge them)."""

    def __init__(self, sent: int, failed: dict[str, str]) -> None:
        super().__init__(f"{len(failed)} replay(s) refused by Kafka")
        self.sent, self.failed = sent, failed


class DeadLetters:
    """The dead-letter topics of one Kafka cluster (and topic namespace)."""

    def __init__(self, bootstrap_servers: str, namespace: str = "", timeout_ms: int = 10_000) -> None:
        self.bootstrap_servers, self.namespace, self.timeout_ms = bootstrap_servers.split(","), namespace, timeout_ms

    def topics(self) -> list[str]:
        """The dead-letter topics of this namespace (every namespace's when it is empty, as in production)."""
        admin = self._admin()
        try:
            return sorted(t for t in admin.list_topics() if t.endswith(SUFFIX) and t.startswith(self.namespace))
        finally:
            admin.close()

    def read(self, topics: list[str] | None = None) -> list[DeadLetter]:
        """Every message kept in the dead-letter topics, oldest first per partition."""
        topics = self.topics() if topics is None else topics
        if not topics:
            return []
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap_servers, enable_auto_commit=False,
                                 client_id="crm-dead-letters")
        try:
            partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > consumer.position(tp)}
            letters = []
            while ends:
                batch = consumer.poll(timeout_ms=self.timeout_ms)
                if not batch:
                    raise TimeoutError(f"no answer from Kafka within {self.timeout_ms} ms while reading {sorted(topics)}")
                for tp, records in batch.items():
                    letters += [_dead_letter(r) for r in records if tp in ends and r.offset < ends[tp]]
                    if tp in ends and consumer.position(tp) >= ends[tp]:
                        del ends[tp]
            return letters
        finally:
            consumer.close()

    def replay(self, letters: list[DeadLetter]) -> int:
        """Republish each to its source topic, for the consumer that gave up on it only; how many were sent.

        ReplayFailed (naming each refused one) unless Kafka acknowledged every one; a letter without a
        consumer's name is refused here: addressed to nobody, every consumer would skip it."""
        producer = KafkaProducer(bootstrap_servers=self.bootstrap_servers, acks="all", client_id="crm-dead-letters",
                                 max_block_ms=self.timeout_ms)
        sent, failed, futures = 0, {}, []
        try:
            for letter in letters:
                if not letter.consumer:
                    failed[letter.ref] = "no dead_letter_consumer header: no consumer to replay it to"
                    continue
                headers = [*letter.original_headers, (REPLAY_FOR_HEADER, letter.consumer.encode()),
                           (REPLAY_OF_HEADER, letter.ref.encode())]
                try:
                    futures.append((letter, producer.send(letter.source_topic, key=letter.key, value=letter.value,
                                                          headers=headers)))
                except Exception as exc:  # refused before sending (no metadata for the topic in time...)
                    failed[letter.ref] = f"{type(exc).__name__}: {exc}"
            for letter, future in futures:
                try:
                    future.get(timeout=self.timeout_ms / 1000)
                    sent += 1
                except Exception as exc:  # refused or timed out: not replayed, whatever the reason
                    failed[letter.ref] = f"{type(exc).__name__}: {exc}"
        finally:
            producer.close()
        if failed:
            raise ReplayFailed(sent, failed)
        return sent

    def purge(self, before: dict[TopicPartition, int]) -> None:
        """Delete, in each partition, the messages before the given offset."""
        if not before:
            return
        admin = self._admin()
        try:
            admin.delete_records(before, timeout_ms=self.timeout_ms)
        finally:
            admin.close()

    def _admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id="crm-dead-letters",
                                request_timeout_ms=self.timeout_ms)


def purge_all(letters: list[DeadLetter]) -> dict[TopicPartition, int]:
    """The DeleteRecords offsets that remove every one of these messages (and any older one of their partitions)."""
    before: dict[TopicPartition, int] = {}
    for letter in letters:
        tp = TopicPartition(letter.topic, letter.partition)
        before[tp] = max(before.get(tp, 0), letter.offset + 1)
    return before


def _dead_letter(record) -> DeadLetter:
    headers, original = {}, []
    for name, value in record.headers or []:
        if name.startswith(HEADER_PREFIX):
            headers[name] = value.decode("utf-8", "replace")
        else:
            original.append((name, value))
    moment = datetime.fromtimestamp(record.timestamp / 1000, tz=timezone.utc)
    return DeadLetter(record.topic, record.partition, record.offset, moment, headers, record.key, record.value,
                      tuple(original))
