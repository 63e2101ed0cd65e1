"""kafka_clients against the real broker and the installed kafka-python: what GroupSilence reads is there."""
import time

from crm_platform.kafka_clients import SILENT_GROUP_REBUILD_S, GroupSilence, ensure_topics, make_consumer


def test_a_member_of_its_group_is_heard_from_every_few_seconds_and_the_client_says_so(infra, topic_namespace):
    """kafka-python's private names that GroupSilence reads (its coordinator's heartbeat answer, its generation while
    stable) exist, and a healthy member hears from its group well within the bound: an upgrade that renamed them
    would silently disable the rebuild of a wedged consumer (GroupSilence says 0.0 for a client that does not say),
    and fails here instead."""
    topic = f"{topic_namespace}heartbeats"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    consumer = make_consumer(infra.kafka_bootstrap, f"{topic_namespace}heartbeats.group", [topic], "test-heartbeats")
    try:
        silence = GroupSilence(consumer)
        assert isinstance(consumer._coordinator.heartbeat.last_receive, float)
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)
        assert consumer.assignment(), "the consumer joined its group"
        assert consumer._coordinator.generation_if_stable() is not None
        for _ in range(40):  # 8 s: past two heartbeat intervals (3 s)
            consumer.poll(timeout_ms=200)
            assert silence.seconds() < 6.5 < SILENT_GROUP_REBUILD_S
        assert consumer._coordinator.heartbeat.last_receive > time.monotonic() - 6.5, "a heartbeat was answered"
    finally:
        consumer.close()
