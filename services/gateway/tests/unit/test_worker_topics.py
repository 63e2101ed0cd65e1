"""The gateway worker creates the topics it needs, the dead-letter topic of each it consumes included."""
from types import SimpleNamespace

from crm_platform.kafka_clients import dead_letter_topic

from gateway import config
from gateway.entrypoints.worker import topics


def test_every_consumed_topic_comes_with_its_dead_letter_topic():
    container = SimpleNamespace(topic=lambda name: f"ns.{name}", events_topic="ns.accounts.events")
    ensured = topics(container)
    assert "ns.accounts.events" in ensured
    for name in config.WEBHOOK_TOPICS:
        assert f"ns.{name}" in ensured and dead_letter_topic(f"ns.{name}") in ensured
