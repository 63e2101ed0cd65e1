"""A rebalance during a keep-alive poll: the records of a partition given to another member are left to it."""
import threading
from collections import namedtuple

from kafka.structs import TopicPartition

from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import KEEP_ALIVE_POLL_MS
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.fake_kafka_consumer import FakeKafkaConsumer

Record = namedtuple("Record", "topic partition offset key value headers")
FIRST, SECOND, THIRD = (TopicPartition("things", n) for n in range(3))


class RebalancingConsumer(FakeKafkaConsumer):
    """A consumer whose keep-alive polls, once `after_events` events are handled, lose `revoked`."""

    config = {"max_poll_interval_ms": 0}  # StayInGroup then polls before every event

    def __init__(self, batch: dict, revoked: set, handled: list, after_events: int) -> None:
        super().__init__(batch)
        self._batch = batch
        self._revoked = revoked
        self._handled = handled
        self._after_events = after_events

    def poll(self, timeout_ms):
        if timeout_ms != KEEP_ALIVE_POLL_MS:
            return self._batch
        if len(self._handled) >= self._after_events:
            self._assigned -= self._revoked  # another member joined: these are its partitions now
        return {}


def records(partition: TopicPartition, *aggregate_ids: str) -> list:
    return [Record(partition.topic, partition.partition, offset, aggregate_id.encode(),
                   event(aggregate_id, 1).to_json_bytes(), []) for offset, aggregate_id in enumerate(aggregate_ids)]


def poll_with_rebalance(revoked: set, after_events: int):
    handled = []
    consumer = RebalancingConsumer({FIRST: records(FIRST, "a1", "a2", "a3"), SECOND: records(SECOND, "b1", "b2"),
                                    THIRD: records(THIRD, "c1")}, revoked, handled, after_events)
    events = EventConsumer("things.projection", lambda: consumer, lambda: None,
                           lambda envelope: handled.append(envelope.aggregate_id))
    events.poll_once(consumer, threading.Event())
    return handled, consumer.committed


def test_the_rest_of_a_partition_revoked_while_it_is_handled_is_neither_handled_nor_committed():
    handled, committed = poll_with_rebalance(revoked={FIRST}, after_events=1)
    assert handled == ["a1", "b1", "b2", "c1"]
    assert committed == {SECOND: 2, THIRD: 1}, "committing a revoked partition would move its new owner's offset"


def test_a_later_partition_of_the_same_poll_revoked_meanwhile_is_left_to_its_new_owner():
    handled, committed = poll_with_rebalance(revoked={SECOND}, after_events=2)
    assert handled == ["a1", "a2", "a3", "c1"]
    assert committed == {FIRST: 3, THIRD: 1}
