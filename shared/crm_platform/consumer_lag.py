"""What a consumer group has left to do, measured from the broker's offsets now and then (never per message):
its lag per partition of its topics, and how many messages wait in the dead-letter topics of its topics.

The lag is the GROUP's: each partition's end offset minus the offset the group committed there, for every
partition of the topics the consumer subscribes to, whichever member holds it (or none: a partition whose
member died still shows its lag). Every replica of a worker measures the same figures, so the alert rules
take the max over pods per partition. Each measurement that succeeds sets
crm_consumer_lag_measured_timestamp_seconds: a consumer that cannot measure (its worker stopped, the broker
unreachable) is seen by that figure growing old, not by a lag frozen at its last value.
"""
from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from crm_platform.kafka_clients import dead_letter_topic
from crm_platform.metrics import CONSUMER_LAG, CONSUMER_LAG_MEASURED, DEAD_LETTERS_WAITING

log = logging.getLogger(__name__)
TIMEOUT_MS = 5_000
MISSING_RECHECK_S = 600.0  # how long a dead-letter topic found missing is not asked for again


class LagReporter:
    """Sets the lag and dead-letter gauges of one named consumer group; drops those of partitions gone."""

    def __init__(self, consumer_name: str, clock=time.time, monotonic=time.monotonic) -> None:
        self._name = consumer_name
        self._clock = clock
        self._monotonic = monotonic
        self._dead_letter_topics: dict[str, set[int]] = {}
        self._missing_until: dict[str, float] = {}
        self._reported: set[tuple[str, str]] = set()  # (topic, partition) with a lag gauge of ours

    def report(self, consumer: KafkaConsumer) -> dict[tuple[str, int], int]:
        """The group's lag on each partition of the subscribed topics: end offset minus the group's committed
        offset (the beginning offset where it never committed: the group starts there). A failure skips the
        measurement (the timestamp gauge then ages), never raises."""
        try:
            partitions = [TopicPartition(topic, p) for topic in sorted(consumer.subscription() or ())
                          for p in sorted(_known_partitions(consumer, topic))]
            ends = consumer.end_offsets(partitions, timeout_ms=TIMEOUT_MS) if partitions else {}
            committed = {tp: consumer.committed(tp, timeout_ms=TIMEOUT_MS) for tp in ends}
            never = [tp for tp, offset in committed.items() if offset is None]
            committed.update(consumer.beginning_offsets(never, timeout_ms=TIMEOUT_MS) if never else {})
            lags = {(tp.topic, tp.partition): max(0, end - committed[tp]) for tp, end in ends.items()}
            waiting = self._dead_letters(consumer, {topic for topic, _ in lags})
        except Exception:  # a rebalance or an outage between two calls: the next measurement tries again
            log.debug("consumer lag not measured", exc_info=True, extra={"consumer": self._name})
            return {}
        for (topic, partition), lag in lags.items():
            CONSUMER_LAG.labels(self._name, topic, str(partition)).set(lag)
        reported = {(topic, str(partition)) for topic, partition in lags}
        for topic, partition in self._reported - reported:
            CONSUMER_LAG.remove(self._name, topic, partition)
        self._reported = reported
        for topic, count in waiting.items():
            DEAD_LETTERS_WAITING.labels(topic).set(count)
        CONSUMER_LAG_MEASURED.labels(self._name).set(self._clock())
        return lags

    def _dead_letters(self, consumer: KafkaConsumer, topics: set[str]) -> dict[str, int]:
        """Messages kept in each topic's dead-letter topic: end minus beginning offsets (a purge moves the
        beginning, crm_platform.dead_letters); a dead-letter topic not found (yet) is left out."""
        waiting = {}
        for topic in map(dead_letter_topic, sorted(topics)):
            partitions = [TopicPartition(topic, p) for p in sorted(self._dead_letter_partitions(consumer, topic))]
            if partitions:
                ends = consumer.end_offsets(partitions, timeout_ms=TIMEOUT_MS)
                begins = consumer.beginning_offsets(partitions, timeout_ms=TIMEOUT_MS)
                waiting[topic] = sum(ends[tp] - begins[tp] for tp in partitions)
        return waiting

    def _dead_letter_partitions(self, consumer: KafkaConsumer, topic: str) -> set[int]:
        """A dead-letter topic's partitions, remembered once found. The consumer's metadata cache holds only
        the topics it subscribes to, and KafkaConsumer.partitions_for_topic fetches the whole cluster's metadata
        (with no timeout) for any other: a topic not found is asked for again only after MISSING_RECHECK_S."""
        if topic in self._dead_letter_topics:
            return self._dead_letter_topics[topic]
        if self._monotonic() < self._missing_until.get(topic, 0.0):
            return set()
        partitions = set(consumer.partitions_for_topic(topic) or ())
        if partitions:
            self._dead_letter_topics[topic] = partitions
        else:
            self._missing_until[topic] = self._monotonic() + MISSING_RECHECK_S
        return partitions


def _known_partitions(consumer: KafkaConsumer, topic: str) -> set[int]:
    """A subscribed topic's partitions (from the client's metadata, which it keeps for its subscription)."""
    return set(consumer.partitions_for_topic(topic) or ())
