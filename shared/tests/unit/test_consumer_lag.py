"""Consumer lag from the broker's offsets: the group's, per partition of its topics, never raising."""
from kafka.structs import TopicPartition
from prometheus_client import REGISTRY

from crm_platform.consumer_lag import MISSING_RECHECK_S, LagReporter


class Offsets:
    """The few KafkaConsumer calls a lag measurement makes: `committed` is the group's (None: never committed)."""

    def __init__(self, ends: dict, committed: dict, dead_letters: dict | None = None, fails: bool = False,
                 begins: dict | None = None):
        self.ends, self.committed_offsets, self.dead_letters, self.fails = ends, committed, dead_letters or {}, fails
        self.begins = begins or {}
        self.metadata_asked: list[str] = []

    def subscription(self):
        return {tp.topic for tp in self.ends}

    def partitions_for_topic(self, topic):
        self.metadata_asked.append(topic)
        return {tp.partition for tp in list(self.ends) + list(self.dead_letters) if tp.topic == topic} or None

    def end_offsets(self, partitions, timeout_ms=None):
        if self.fails:
            raise TimeoutError("no answer")
        return {tp: self.ends.get(tp, self.dead_letters.get(tp, (0, 0))[1]) for tp in partitions}

    def beginning_offsets(self, partitions, timeout_ms=None):
        return {tp: self.dead_letters[tp][0] if tp in self.dead_letters else self.begins.get(tp, 0)
                for tp in partitions}

    def committed(self, tp, timeout_ms=None):
        return self.committed_offsets.get(tp)


def lag(consumer: str, topic: str, partition: int):
    return REGISTRY.get_sample_value("crm_consumer_lag_events",
                                     {"consumer": consumer, "topic": topic, "partition": str(partition)})


def measured(consumer: str):
    return REGISTRY.get_sample_value("crm_consumer_lag_measured_timestamp_seconds", {"consumer": consumer})


def test_lag_is_end_minus_the_groups_commit_per_partition_and_dead_letters_are_end_minus_beginning():
    p0, p1, dlq = TopicPartition("lag-t", 0), TopicPartition("lag-t", 1), TopicPartition("lag-t.dead-letter", 0)
    reporter = LagReporter("lag-test", clock=lambda: 1234.5)
    assert reporter.report(Offsets({p0: 10, p1: 7}, {p0: 4, p1: 7}, {dlq: (2, 5)})) == {("lag-t", 0): 6, ("lag-t", 1): 0}
    assert (lag("lag-test", "lag-t", 0), lag("lag-test", "lag-t", 1)) == (6, 0)
    assert REGISTRY.get_sample_value("crm_dead_letter_messages", {"topic": "lag-t.dead-letter"}) == 3
    assert measured("lag-test") == 1234.5


def test_a_partition_the_group_never_committed_lags_from_its_beginning_held_by_a_member_or_not():
    """The group's lag covers every partition of its topics: one whose member died is still counted."""
    p0, p1 = TopicPartition("never-t", 0), TopicPartition("never-t", 1)
    reporter = LagReporter("never-test")
    assert reporter.report(Offsets({p0: 10, p1: 7}, {p0: 4}, begins={p1: 2})) == {("never-t", 0): 6, ("never-t", 1): 5}


def test_a_partition_gone_loses_its_gauge():
    p0, p1 = TopicPartition("moved-t", 0), TopicPartition("moved-t", 1)
    reporter = LagReporter("moved-test")
    reporter.report(Offsets({p0: 3, p1: 3}, {p0: 1, p1: 1}))
    reporter.report(Offsets({p0: 3}, {p0: 3}))
    assert (lag("moved-test", "moved-t", 0), lag("moved-test", "moved-t", 1)) == (0, None)


def test_a_measurement_that_fails_is_skipped_and_its_timestamp_ages():
    p0 = TopicPartition("fail-t", 0)
    now = [100.0]
    reporter = LagReporter("fail-test", clock=lambda: now[0])
    reporter.report(Offsets({p0: 9}, {p0: 1}))
    now[0] = 200.0
    assert reporter.report(Offsets({p0: 9}, {p0: 1}, fails=True)) == {}
    assert lag("fail-test", "fail-t", 0) == 8
    assert measured("fail-test") == 100.0


def test_a_missing_dead_letter_topic_is_not_looked_up_at_every_measurement():
    """partitions_for_topic fetches the whole cluster's metadata, with no timeout, for a topic it does not know."""
    p0 = TopicPartition("nodlq-t", 0)
    now = [0.0]
    reporter = LagReporter("nodlq-test", monotonic=lambda: now[0])
    offsets = Offsets({p0: 1}, {p0: 1})
    for _ in range(3):
        reporter.report(offsets)
    assert offsets.metadata_asked.count("nodlq-t.dead-letter") == 1
    now[0] = MISSING_RECHECK_S + 1
    reporter.report(offsets)
    assert offsets.metadata_asked.count("nodlq-t.dead-letter") == 2
