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


def test_the_worker_runs_every_webhook_loop_the_notice_sweep_included():
    """A disabling whose notice was not queued (a crash, a database error) is left owed on its endpoint: only the
    worker's notice sweep sends it, so a worker without that loop would never tell the account."""
    from unittest.mock import MagicMock

    from gateway.entrypoints.worker import loops

    names = loops(MagicMock(), {"WEBHOOK_LOG_RETENTION_DAYS": 30})
    assert {"outbox-relay", "webhook-fan-out", "webhook-delivery", "webhook-notice-sweep",
            "webhook-log-sweep"} <= set(names)
