"""Kafka producer, consumer and admin clients configured the way every service needs them."""
from __future__ import annotations

import logging
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

# Kafka's default: a member that does not poll for this long leaves its group (see StayInGroup).
MAX_POLL_INTERVAL_MS = 300_000
KEEP_ALIVE_POLL_MS = 100  # enough for the group coordinator's answer when a rebalance is under way


def topic_name(namespace: str, name: str) -> str:
    """The full topic name: an optional namespace (per environment or test run) + the name."""
    return f"{namespace}{name}" if namespace else name


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dead-letter"


def make_producer(bootstrap_servers: str, client_id: str, bootstrap_timeout_ms: int = 30_000) -> KafkaProducer:
    """An idempotent producer that waits for every in-sync replica (no loss, no duplicates on retry).

    `bootstrap_timeout_ms`: how long making one waits for a broker to answer (kafka-python's default) before it
    raises; a test of an outage may give less."""
    return KafkaProducer(
        bootstrap_servers=bootstrap_servers.split(","),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_in_flight_requests_per_connection=5,
        retries=2**31 - 1,
        delivery_timeout_ms=30_000,
        request_timeout_ms=10_000,
        max_block_ms=10_000,
        bootstrap_timeout_ms=bootstrap_timeout_ms,
    )


METADATA_MAX_AGE_MS = 5_000
TOPICS_VISIBLE_WITHIN_S = 30.0  # how long ensure_topics waits for the metadata to show what it ensured


def make_consumer(bootstrap_servers: str, group_id: str, topics: list[str], client_id: str,
                  max_poll_interval_ms: int = MAX_POLL_INTERVAL_MS) -> KafkaConsumer:
    """A consumer that commits offsets only when told to (after processing)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers.split(","),
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=500,
        max_poll_records=200,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        max_poll_interval_ms=max_poll_interval_ms,
        # A topic seen before its partitions were (created that instant by another worker) is assigned nothing,
        # and the group rebalances only once fresh metadata shows them: at the client's default age of 5 minutes,
        # a worker started alongside the others waited that long for its first event (privacy's replies).
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
    )
    consumer.subscribe(topics)
    return consumer


# A member of its group hears back from its coordinator at every heartbeat (heartbeat_interval_ms, 3 s), also while
# its group rebalances, except for the round trip of its own rejoining. One that has not for this long is not in its
# group, whatever its client thinks: see GroupSilence.
SILENT_GROUP_REBUILD_S = 60.0


class GroupSilence:
    """How long (seconds) a consumer has not heard from its group: no heartbeat answered by the coordinator, no new
    generation joined, since the consumer was made. 0.0 for a client that does not say (another client or version:
    tests/integration/test_kafka_clients.py keeps kafka-python's names true). Asked by the thread that polls.

    kafka-python 3.0.12 can wedge a consumer after a rebalance at start-up: the broker drops the member for missing
    heartbeats, and each poll spends its timeout in a tight loop looking its coordinator up, a full core, never to
    fetch again (upstream: dpkp/kafka-python#2695 fixed one such loop). Only a new consumer recovers: EventConsumer
    makes one once this passes SILENT_GROUP_REBUILD_S. The client's own `last_reset` is not counted as hearing from
    the group: it moves on every successful coordinator lookup too, which such a loop may repeat without end."""

    def __init__(self, consumer: KafkaConsumer, clock=time.monotonic) -> None:
        self._consumer = consumer
        self._clock = clock  # kafka-python times heartbeats with time.monotonic
        self._heard_at = clock()  # made: joining takes a moment
        self._generation: tuple | None = None

    def seconds(self) -> float:
        coordinator = getattr(self._consumer, "_coordinator", None)
        heartbeat, stable = getattr(coordinator, "heartbeat", None), getattr(coordinator, "generation_if_stable", None)
        if heartbeat is None or stable is None or not hasattr(heartbeat, "last_receive"):
            return 0.0
        now = self._clock()
        generation = stable()
        if generation is not None:
            joined = (getattr(generation, "generation_id", None), getattr(generation, "member_id", None))
            if joined != self._generation:
                self._generation, self._heard_at = joined, now
        self._heard_at = max(self._heard_at, heartbeat.last_receive)
        return max(0.0, now - self._heard_at)


class StayInGroup:
    """Polls a consumer with its partitions paused, at most every `every_s`, while it works on a polled batch.

    Kafka takes a member that has not polled for `max_poll_interval_ms` for dead: it leaves the
    group, its partitions go to another member, which handles the same events again, and its own
    commit then fails. Paused partitions fetch nothing; a record a poll returns anyway (from a
    partition a rebalance gave it meanwhile) is sought back to, so that nothing is skipped.
    """

    def __init__(self, consumer: KafkaConsumer, every_s: float | None = None) -> None:
        self._consumer = consumer
        if every_s is None:  # well within the consumer's own bound
            every_s = min(10.0, consumer.config["max_poll_interval_ms"] / 4000)
        self._every_s = every_s
        self._polled_at = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self._polled_at < self._every_s:
            return
        paused = self._consumer.assignment() - self._consumer.paused()
        self._consumer.pause(*paused)
        try:
            for partition, records in self._consumer.poll(timeout_ms=KEEP_ALIVE_POLL_MS).items():
                self._consumer.seek(partition, records[0].offset)
        finally:
            self._consumer.resume(*(paused & self._consumer.assignment()))
            self._polled_at = time.monotonic()


def ensure_topics(bootstrap_servers: str, topics: list[str], partitions: int, replication_factor: int = 1,
                  visible_within_s: float = TOPICS_VISIBLE_WITHIN_S) -> None:
    """Create missing topics (existing ones are left as they are), and return once the broker's metadata shows
    every one's partitions, whoever created them."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","), client_id="crm-topic-setup")
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                admin.create_topics(
                    {t: {"num_partitions": partitions, "replication_factor": replication_factor} for t in missing},
                    wait_for_metadata=True,
                )
                log.info("created topics", extra={"topics": missing})
            except TopicAlreadyExistsError:
                pass  # another process won the race: its topics may not be in the metadata yet
        _wait_until_visible(admin, topics, visible_within_s)
    finally:
        admin.close()


def _wait_until_visible(admin: KafkaAdminClient, topics: list[str], within_s: float) -> None:
    """Until the metadata shows each topic with its partitions, or `within_s` passed (then the consumer's own
    metadata refresh is left to find them). A consumer that subscribes to a topic another worker created that
    instant, before its partitions are in the metadata, is assigned nothing for it: in two full `make test`
    runs the workflows worker of the end-to-end system started so never got the accounts' events (no default
    board for any new account, four end-to-end tests failed), where `create_topics` had waited only for the
    topics this process created, not for those a worker starting beside it had."""
    deadline = time.monotonic() + within_s
    while True:
        shown = {topic["name"] for topic in admin.describe_topics(topics)
                 if topic.get("error_code") == 0 and topic.get("partitions")}
        hidden = sorted(set(topics) - shown)
        if not hidden:
            return
        if time.monotonic() >= deadline:
            log.warning("topics not in the metadata yet", extra={"topics": hidden})
            return
        time.sleep(0.1)


def kafka_answers(bootstrap_servers: str, timeout_ms: int = 2_000) -> bool:
    """True when the broker answers an admin call (metadata), not just a TCP connect."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers.split(","),
            client_id="crm-readiness",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )
    except KafkaError:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()
