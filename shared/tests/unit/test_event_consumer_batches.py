"""The consumer's batch block, on a fake Kafka consumer: one per poll, and an outage in it waited out."""
import contextlib
import threading
from types import SimpleNamespace

from kafka.structs import TopicPartition
from pymongo.errors import AutoReconnect

from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import KEEP_ALIVE_POLL_MS
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.fake_kafka_consumer import FakeKafkaConsumer


def records(partition: TopicPartition, envelopes) -> list:
    return [SimpleNamespace(topic=partition.topic, partition=partition.partition, offset=offset, key=b"k", headers=[],
                            value=envelope.to_json_bytes()) for offset, envelope in enumerate(envelopes)]


def two_partitions():
    p0, p1 = TopicPartition("things", 0), TopicPartition("things", 1)
    return p0, p1, {p0: records(p0, [event("a", 1), event("a", 2)]), p1: records(p1, [event("b", 1)])}


def consumer_with(batch_context, handled: list) -> EventConsumer:
    return EventConsumer("things", lambda: None, lambda: None, lambda envelope: handled.append(envelope.aggregate_id),
                         batch_context=batch_context)


def test_one_block_surrounds_every_partition_of_a_poll_and_offsets_are_committed_after_it():
    p0, p1, polled = two_partitions()
    blocks, handled = [], []

    @contextlib.contextmanager
    def batch(envelopes):
        blocks.append(sorted(e.aggregate_id for e in envelopes))
        yield

    kafka = FakeKafkaConsumer(polled)
    assert consumer_with(batch, handled).poll_once(kafka, threading.Event()) == 3
    assert blocks == [["a", "a", "b"]]  # the whole poll at once: a bulk write as large as the poll
    assert sorted(handled) == ["a", "a", "b"] and kafka.committed == {p0: 2, p1: 1}


def test_an_outage_while_preparing_a_batch_is_waited_out_and_the_batch_prepared_again():
    _, _, polled = two_partitions()
    tries, handled = [], []

    @contextlib.contextmanager
    def batch(envelopes):
        tries.append(len(envelopes))
        if len(tries) < 3:
            raise AutoReconnect("the database is down")
        yield

    stop = threading.Event()
    stop.wait = lambda timeout=None: False  # no real waiting in a unit test
    kafka = KeepAliveCounting(polled)
    consumer_with(batch, handled).poll_once(kafka, stop)
    assert tries == [3, 3, 3]  # not given up for one by one after the first failure
    assert len(handled) == 3
    # while the outage lasts the consumer still polls (partitions paused), so it stays in its group
    assert kafka.keep_alive_polls >= 2 + len(handled)


class KeepAliveCounting(FakeKafkaConsumer):
    config = {"max_poll_interval_ms": 0}  # StayInGroup polls whenever it is told of progress

    def __init__(self, polled: dict) -> None:
        super().__init__(polled)
        self.keep_alive_polls = 0

    def poll(self, timeout_ms):
        if timeout_ms == KEEP_ALIVE_POLL_MS:
            self.keep_alive_polls += 1
            return {}
        return super().poll(timeout_ms)


def test_a_batch_that_cannot_be_prepared_for_another_reason_is_handled_one_by_one():
    _, _, polled = two_partitions()
    handled = []

    def batch(envelopes):
        raise ValueError("a bug in the bulk path")

    consumer_with(batch, handled).poll_once(FakeKafkaConsumer(polled), threading.Event())
    assert sorted(handled) == ["a", "a", "b"]
