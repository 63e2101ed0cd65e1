"""Consumer lag from the broker's offsets: per assigned partition, gone with the partition, never raising."""
from kafka.structs import TopicPartition
from prometheus_client import REGISTRY

from crm_platform.consumer_lag import LagReporter


class Offsets:
    """The few KafkaConsumer calls a lag measurement makes."""

    def __init__(self, ends: dict, positions: dict, dead_letters: dict | None = None, fails: bool = False):
        self.ends, self.positions, self.dead_letters, self.fails = ends, positions, dead_letters or {}, fails

    def assignment(self):
        return set(self.positions)

    def end_offsets(self, partitions, timeout_ms=None):
        if self.fails:
            raise TimeoutError("no answer")
        return {tp: self.ends.get(tp, self.dead_letters.get(tp, (0, 0))[1]) for tp in partitions}

    def beginning_offsets(self, partitions, timeout_ms=None):
        return {tp: self.dead_letters[tp][0] for tp in partitions}

    def position(self, tp, timeout_ms=None):
        return self.positions[tp]

    def partitions_for_topic(self, topic):
        return {tp.partition for tp in self.dead_letters if tp.topic == topic} or None


def lag(consumer: str, topic: str, partition: int):
    return REGISTRY.get_sample_value("crm_consumer_lag_events",
                                     {"consumer": consumer, "topic": topic, "partition": str(partition)})


def test_lag_is_end_minus_position_per_partition_and_dead_letters_are_end_minus_beginning():
    p0, p1, dlq = TopicPartition("lag-t", 0), TopicPartition("lag-t", 1), TopicPartition("lag-t.dead-letter", 0)
    reporter = LagReporter("lag-test")
    assert reporter.report(Offsets({p0: 10, p1: 7}, {p0: 4, p1: 7}, {dlq: (2, 5)})) == {("lag-t", 0): 6, ("lag-t", 1): 0}
    assert (lag("lag-test", "lag-t", 0), lag("lag-test", "lag-t", 1)) == (6, 0)
    assert REGISTRY.get_sample_value("crm_dead_letter_messages", {"topic": "lag-t.dead-letter"}) == 3


def test_a_partition_given_to_another_member_loses_its_gauge_here():
    p0, p1 = TopicPartition("moved-t", 0), TopicPartition("moved-t", 1)
    reporter = LagReporter("moved-test")
    reporter.report(Offsets({p0: 3, p1: 3}, {p0: 1, p1: 1}))
    reporter.report(Offsets({p0: 3}, {p0: 3}))
    assert (lag("moved-test", "moved-t", 0), lag("moved-test", "moved-t", 1)) == (0, None)


def test_a_measurement_that_fails_is_skipped_and_keeps_the_last_figures():
    p0 = TopicPartition("fail-t", 0)
    reporter = LagReporter("fail-test")
    reporter.report(Offsets({p0: 9}, {p0: 1}))
    assert reporter.report(Offsets({p0: 9}, {p0: 1}, fails=True)) == {}
    assert lag("fail-test", "fail-t", 0) == 8
