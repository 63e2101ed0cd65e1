"""When the consumer loop commits: at most once every `commit_every_s`, when it stops, and before it closes a
consumer; never a partition taken from it meanwhile."""
import threading
from collections import namedtuple

from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from kafka.structs import TopicPartition

from crm_platform.event_consumer import COMMIT_TIMEOUT_MS, EventConsumer
from crm_platform.testing.event_store_contract import event
from crm_platform.testing.fake_kafka_consumer import FakeKafkaConsumer

Record = namedtuple("Record", "topic partition offset key value headers")
FIRST, SECOND = (TopicPartition("things", n) for n in range(2))


def records(partition: TopicPartition, first_offset: int, *aggregate_ids: str) -> list:
    return [Record(partition.topic, partition.partition, first_offset + n, aggregate_id.encode(),
                   event(aggregate_id, 1).to_json_bytes(), []) for n, aggregate_id in enumerate(aggregate_ids)]


class ScriptedConsumer(FakeKafkaConsumer):
    """Polls that return one scripted batch each (then nothing, or `then` raised); every commit call kept."""

    def __init__(self, *polls: dict, then: BaseException | None = None) -> None:
        super().__init__({partition: [] for polled in polls for partition in polled})
        self._polls = list(polls)
        self._then = then
        self.commits: list[dict] = []
        self.closed = False

    def poll(self, timeout_ms):
        if not self._polls and self._then is not None:
            raise self._then
        return self._polls.pop(0) if self._polls else {}

    def commit(self, offsets, timeout_ms=None):
        assert timeout_ms == COMMIT_TIMEOUT_MS, "a commit waits a bounded time, never kafka's 30 s default"
        super().commit(offsets)
        self.commits.append({partition: meta.offset for partition, meta in offsets.items()})

    def revoke(self, partition: TopicPartition) -> None:
        self._assigned.discard(partition)

    def close(self):
        self.closed = True


def consumer_of(kafka: ScriptedConsumer, commit_every_s: float, handled: list | None = None) -> EventConsumer:
    handled = [] if handled is None else handled
    return EventConsumer("things.projection", lambda: kafka, lambda: None,
                         lambda envelope: handled.append(envelope.aggregate_id), commit_every_s=commit_every_s)


def test_the_first_batch_is_committed_at_once_the_next_ones_together_once_the_interval_passed_or_the_loop_stops():
    kafka = ScriptedConsumer({FIRST: records(FIRST, 0, "a1")}, {FIRST: records(FIRST, 1, "a2")},
                             {FIRST: records(FIRST, 2, "a3"), SECOND: records(SECOND, 0, "b1")})
    handled = []
    events, going = consumer_of(kafka, commit_every_s=3600, handled=handled), threading.Event()
    for _ in range(3):
        events.poll_once(kafka, going)
    assert handled == ["a1", "a2", "a3", "b1"]
    assert kafka.commits == [{FIRST: 1}], "within the interval, applied offsets wait"
    stopping = threading.Event()
    stopping.set()
    events.poll_once(kafka, stopping)
    assert kafka.commits == [{FIRST: 1}, {FIRST: 3, SECOND: 1}], "stopping commits what was applied, in one call"


def test_with_no_interval_every_batch_is_committed():
    kafka = ScriptedConsumer({FIRST: records(FIRST, 0, "a1")}, {FIRST: records(FIRST, 1, "a2")})
    events = consumer_of(kafka, commit_every_s=0)
    for _ in range(2):
        events.poll_once(kafka, threading.Event())
    assert kafka.commits == [{FIRST: 1}, {FIRST: 2}]


def test_a_partition_taken_away_before_its_commit_fell_due_is_left_to_its_new_owner():
    kafka = ScriptedConsumer({FIRST: records(FIRST, 0, "a1")},
                             {FIRST: records(FIRST, 1, "a2"), SECOND: records(SECOND, 0, "b1")})
    events = consumer_of(kafka, commit_every_s=3600)
    for _ in range(2):
        events.poll_once(kafka, threading.Event())
    kafka.revoke(FIRST)
    stopping = threading.Event()
    stopping.set()
    events.poll_once(kafka, stopping)
    assert kafka.committed == {FIRST: 1, SECOND: 1}, "its new owner's offset must not be moved"


def test_a_consumer_that_fails_commits_what_it_applied_before_it_is_closed_and_rebuilt():
    stop = threading.Event()

    class FailingOnce(ScriptedConsumer):
        def poll(self, timeout_ms):
            if not self._polls:
                stop.set()  # the loop ends after this consumer is closed
            return super().poll(timeout_ms)

    kafka = FailingOnce({FIRST: records(FIRST, 0, "a1")}, {FIRST: records(FIRST, 1, "a2")},
                        then=KafkaConnectionError("broker gone"))
    consumer_of(kafka, commit_every_s=3600).run(stop)
    assert kafka.commits == [{FIRST: 1}, {FIRST: 2}] and kafka.closed


def test_a_partition_handled_again_from_an_older_offset_keeps_the_offset_after_what_was_applied():
    kafka = ScriptedConsumer({SECOND: records(SECOND, 0, "b1")}, {FIRST: records(FIRST, 0, "a1", "a2", "a3")},
                             {FIRST: records(FIRST, 1, "a2")}, {FIRST: records(FIRST, 0, "a1")})
    events = consumer_of(kafka, commit_every_s=3600)
    for _ in range(4):  # the first batch is committed at once; a2, then a1, come again (sought back, say)
        events.poll_once(kafka, threading.Event())
    stopping = threading.Event()
    stopping.set()
    events.poll_once(kafka, stopping)
    assert kafka.commits == [{SECOND: 1}, {FIRST: 3}], "the offset stays after a3, the last applied"
    events.poll_once(kafka, stopping)
    assert kafka.commits == [{SECOND: 1}, {FIRST: 3}]


def test_a_commit_that_timed_out_is_made_later_with_what_was_applied_meanwhile():
    class SlowCoordinator(ScriptedConsumer):
        timeouts = 1

        def commit(self, offsets, timeout_ms=None):
            if self.commits and self.timeouts:
                self.timeouts -= 1
                raise KafkaTimeoutError("Timeout committing offsets")
            super().commit(offsets, timeout_ms)

    kafka = SlowCoordinator({FIRST: records(FIRST, 0, "a1")}, {FIRST: records(FIRST, 1, "a2")},
                            {SECOND: records(SECOND, 0, "b1")})
    events = consumer_of(kafka, commit_every_s=0)
    for _ in range(3):
        events.poll_once(kafka, threading.Event())  # the second commit times out: no error, no rebuilt consumer
    assert kafka.commits == [{FIRST: 1}, {FIRST: 2, SECOND: 1}]


def test_a_commit_that_fails_before_closing_does_not_keep_the_consumer_from_closing():
    stop = threading.Event()

    class RefusingCommits(ScriptedConsumer):
        def poll(self, timeout_ms):
            if not self._polls:
                stop.set()
            return super().poll(timeout_ms)

        def commit(self, offsets, timeout_ms=None):
            if self.commits:
                raise KafkaConnectionError("coordinator gone")
            super().commit(offsets, timeout_ms)

    kafka = RefusingCommits({FIRST: records(FIRST, 0, "a1")}, {FIRST: records(FIRST, 1, "a2")},
                            then=KafkaConnectionError("broker gone"))
    consumer_of(kafka, commit_every_s=3600).run(stop)
    assert kafka.commits == [{FIRST: 1}] and kafka.closed  # a2 comes again to the next consumer


def test_a_rebuilt_consumer_commits_from_where_the_group_is_now_not_from_what_the_last_one_committed():
    """An operator may set the group's offsets back (a replay) while this process's consumer is out of it."""
    stop = threading.Event()

    class StoppingWhenDone(ScriptedConsumer):
        def poll(self, timeout_ms):
            if not self._polls and self._then is None:
                stop.set()
            return super().poll(timeout_ms)

    first = StoppingWhenDone({FIRST: records(FIRST, 0, "a1", "a2", "a3")}, then=KafkaConnectionError("broker gone"))
    again = StoppingWhenDone({FIRST: records(FIRST, 0, "a1")})
    built = iter([first, again])
    handled = []
    consumer = EventConsumer("things.projection", lambda: next(built), lambda: None,
                             lambda envelope: handled.append(envelope.aggregate_id), commit_every_s=3600)
    consumer.run(stop)
    assert handled == ["a1", "a2", "a3", "a1"]
    assert first.commits == [{FIRST: 3}] and again.commits == [{FIRST: 1}]
