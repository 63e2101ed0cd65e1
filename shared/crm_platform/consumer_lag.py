"""What a consumer has left to do, measured from the broker's offsets now and then (never per message):
its lag per assigned partition, and how many messages wait in the dead-letter topics of its topics."""
from __future__ import annotations

import logging

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from crm_platform.kafka_clients import dead_letter_topic
from crm_platform.metrics import CONSUMER_LAG, DEAD_LETTERS_WAITING

log = logging.getLogger(__name__)
TIMEOUT_MS = 5_000


class LagReporter:
    """Sets the lag and dead-letter gauges of one named consumer; drops those of partitions no longer its own."""

    def __init__(self, consumer_name: str) -> None:
        self._name = consumer_name
        self._reported: set[tuple[str, str]] = set()  # (topic, partition) with a lag gauge of ours

    def report(self, consumer: KafkaConsumer) -> dict[tuple[str, int], int]:
        """The lag of each assigned partition: its end offset minus our position (after a batch is handled and
        committed, the position is the committed offset). A failure skips a measurement, never raises."""
        try:
            assigned = list(consumer.assignment())
            ends = consumer.end_offsets(assigned, timeout_ms=TIMEOUT_MS) if assigned else {}
            positions = {tp: consumer.position(tp, timeout_ms=TIMEOUT_MS) for tp in ends}
            lags = {(tp.topic, tp.partition): max(0, end - positions[tp]) for tp, end in ends.items()
                    if positions[tp] is not None}
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
        return lags

    @staticmethod
    def _dead_letters(consumer: KafkaConsumer, topics: set[str]) -> dict[str, int]:
        """Messages kept in each topic's dead-letter topic: end minus beginning offsets (a purge moves the
        beginning, crm_platform.dead_letters); a topic without a dead-letter topic is left out."""
        waiting = {}
        for topic in map(dead_letter_topic, sorted(topics)):
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            if partitions:
                ends = consumer.end_offsets(partitions, timeout_ms=TIMEOUT_MS)
                begins = consumer.beginning_offsets(partitions, timeout_ms=TIMEOUT_MS)
                waiting[topic] = sum(ends[tp] - begins[tp] for tp in partitions)
        return waiting
