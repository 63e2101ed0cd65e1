"""A consumer that has not heard from its group for too long (kafka-python 3.0.12 can wedge one so after a rebalance)
is closed and made anew, and only then: kafka_clients.GroupSilence, EventConsumer.run."""
import threading
from types import SimpleNamespace

from kafka.structs import TopicPartition

from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import GroupSilence
from crm_platform.testing.fake_kafka_consumer import FakeKafkaConsumer

THINGS = TopicPartition("things", 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Coordinator:
    """kafka-python's coordinator as GroupSilence reads it: the heartbeat's times, the generation while stable."""

    def __init__(self) -> None:
        self.heartbeat = SimpleNamespace(last_receive=float("-inf"), last_reset=float("-inf"))
        self.generation = None  # None: joining or rebalancing

    def generation_if_stable(self):
        return self.generation


def watched(clock: Clock) -> tuple[Coordinator, GroupSilence]:
    coordinator = Coordinator()
    return coordinator, GroupSilence(SimpleNamespace(_coordinator=coordinator), clock)


def test_silence_is_counted_from_the_consumer_made_the_last_answer_or_a_new_generation_joined():
    clock = Clock()
    coordinator, silence = watched(clock)
    clock.now += 5
    assert silence.seconds() == 5.0  # joining since it was made
    coordinator.heartbeat.last_receive = clock.now
    clock.now += 20
    assert silence.seconds() == 20.0
    coordinator.generation = SimpleNamespace(generation_id=7, member_id="m-1")
    assert silence.seconds() == 0.0  # joined generation 7 just now
    clock.now += 70
    assert silence.seconds() == 70.0  # stable in 7, and no heartbeat answered since: a lost member
    coordinator.generation = SimpleNamespace(generation_id=8, member_id="m-1")
    assert silence.seconds() == 0.0


def test_a_coordinator_found_again_and_again_is_not_hearing_from_the_group():
    """kafka-python resets its heartbeat timeouts (`last_reset`) on every successful coordinator lookup; a wedged
    consumer may look its coordinator up without end, so that reset counts for nothing here."""
    clock = Clock()
    coordinator, silence = watched(clock)
    coordinator.generation = SimpleNamespace(generation_id=3, member_id="m-1")
    silence.seconds()
    for _ in range(7):
        clock.now += 10
        coordinator.heartbeat.last_reset = clock.now
    assert silence.seconds() == 70.0


def test_a_client_that_does_not_say_is_never_taken_for_lost():
    assert GroupSilence(SimpleNamespace(), Clock()).seconds() == 0.0


class Polls(FakeKafkaConsumer):
    """Empty polls of a member stable in generation 1; `stop` set after `polls` polls of this consumer."""

    def __init__(self, stop: threading.Event, polls: int) -> None:
        super().__init__({THINGS: []})
        self._stop, self._left = stop, polls
        self.closed = False
        self._coordinator = Coordinator()
        self._coordinator.generation = SimpleNamespace(generation_id=1, member_id="m")

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
                           rebuild_silent_after_s=rebuild_after_s)
    stop.wait = lambda timeout=None: stop.is_set()  # no 2 s pause before the new consumer
    events.run(stop)
    return made


def test_a_consumer_past_the_bound_is_closed_and_made_anew_and_one_within_it_kept():
    stop = threading.Event()
    lost, fresh = Polls(stop, polls=100), Polls(stop, polls=1)
    made = run_with([lost, fresh], rebuild_after_s=-1.0, stop=stop)  # any silence is too long: the first is lost
    assert made == [lost, fresh] and lost.closed and lost._left == 99  # given up after its first poll

    stop = threading.Event()
    healthy = Polls(stop, polls=5)
    assert run_with([healthy], rebuild_after_s=60.0, stop=stop) == [healthy] and healthy._left == 0
