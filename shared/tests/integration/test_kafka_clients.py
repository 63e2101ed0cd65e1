"""kafka_clients against the real broker and the installed kafka-python: what unanswered_for reads is there."""
import time

from crm_platform.kafka_clients import UNANSWERED_REBUILD_S, ensure_topics, make_consumer, unanswered_for


def test_a_member_of_its_group_is_answered_every_few_seconds_and_the_client_says_so(infra, topic_namespace):
    """kafka-python's private names that unanswered_for reads (its coordinator's heartbeat times) exist, and a healthy
    member is heard from well within the bound: an upgrade that renamed them would silently disable the rebuild
    of a wedged consumer (unanswered_for returns 0.0 for a client that does not say), and fails here instead."""
    topic = f"{topic_namespace}heartbeats"
    ensure_topics(infra.kafka_bootstrap, [topic], partitions=1)
    consumer = make_consumer(infra.kafka_bootstrap, f"{topic_namespace}heartbeats.group", [topic], "test-heartbeats")
    try:
        heartbeat = consumer._coordinator.heartbeat
        assert isinstance(heartbeat.last_receive, float) and isinstance(heartbeat.last_reset, float)
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)
        assert consumer.assignment(), "the consumer joined its group"
        for _ in range(40):  # 8 s: past two heartbeat intervals (3 s)
            consumer.poll(timeout_ms=200)
        assert heartbeat.last_receive > time.monotonic() - 6.5, "a heartbeat was answered within two intervals"
        assert unanswered_for(consumer) < 6.5 < UNANSWERED_REBUILD_S
    finally:
        consumer.close()
