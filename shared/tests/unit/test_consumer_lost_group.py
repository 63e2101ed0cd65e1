"""A consumer whose group coordinator stopped answering (kafka-python 3.0.12 can wedge one so after a rebalance) is
closed and made anew, and only then: kafka_clients.unanswered_for, EventConsumer.run."""
import threading
import time
from types import SimpleNamespace

from kafka.structs import TopicPartition

from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import unanswered_for
from crm_platform.testing.fake_kafka_consumer import FakeKafkaConsumer

THINGS = TopicPartition("things", 0)


def with_heartbeat(consumer, last_receive: float, last_reset: float):
    consumer._coordinator = SimpleNamespace(heartbeat=SimpleNamespace(last_receive=last_receive, last_reset=last_reset))
    return consumer


def test_the_silence_is_counted_from_the_last_answer_or_join_whichever_is_later():
    now = 1_000.0
    assert unanswered_for(with_heartbeat(SimpleNamespace(), 990.0, 900.0), now) == 10.0
    assert unanswered_for(with_heartbeat(SimpleNamespace(), float("-inf"), 995.0), now) == 5.0  # joined, no beat yet
    assert unanswered_for(with_heartbeat(SimpleNamespace(), 1_001.0, 900.0), now) == 0.0
    assert unanswered_for(SimpleNamespace(), now) == 0.0  # a client that does not say is never taken for lost


class Polls(FakeKafkaConsumer):
    """Empty polls; closed when told; `stop` set after `polls` polls of this consumer."""

    def __init__(self, stop: threading.Event, polls: int, silent_s: float) -> None:
        super().__init__({THINGS: []})
        self._stop, self._left = stop, polls
        self.closed = False
        with_heartbeat(self, float("-inf"), time.monotonic() - silent_s)

    def poll(self, timeout_ms):
        self._left -= 1
        if self._left <= 0:
            self._stop.set()
        return {}

    def close(self):
        self.closed = True


def run_with(consumers: list, rebuild_after_s: float, stop: threading.Event) -> list:
    made = []

    def factory():
        made.append(consumers[len(made)])
        return made[-1]

    events = EventConsumer("things.projection", factory, lambda: None, lambda envelope: None,
                           rebuild_unanswered_after_s=rebuild_after_s)
    stop.wait = lambda timeout=None: stop.is_set()  # no 2 s pause before the new consumer
    events.run(stop)
    return made


def test_a_consumer_unanswered_past_the_bound_is_closed_and_made_anew():
    stop = threading.Event()
    lost, fresh = Polls(stop, polls=100, silent_s=120.0), Polls(stop, polls=3, silent_s=0.0)
    made = run_with([lost, fresh], rebuild_after_s=60.0, stop=stop)
    assert made == [lost, fresh] and lost.closed and fresh.closed
    assert lost._left == 99  # given up after its first poll


def test_a_consumer_answered_within_the_bound_is_kept():
    stop = threading.Event()
    healthy = Polls(stop, polls=5, silent_s=10.0)
    assert run_with([healthy], rebuild_after_s=60.0, stop=stop) == [healthy]
    assert healthy._left == 0
