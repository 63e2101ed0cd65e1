"""The gateway worker: relays account events (AccountCreated) to Kafka, deletes expired idempotency records and
rate-limit counters, turns published events into webhook deliveries and sends them, until SIGTERM."""
from __future__ import annotations

import sys
from datetime import timedelta

from crm_platform.json_logging import configure_logging
from crm_platform.settings import load_or_exit
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics
from crm_platform.worker_runtime import run_loops

from gateway import config
from gateway.bootstrap import Container
from gateway.service_layer import idempotency, rate_limiting, webhook_delivery, webhook_endpoint_notices


def topics(container: Container) -> list[str]:
    """The topic the worker relays to, those it consumes (perhaps before their producers ran), and the dead-letter
    topic of each it consumes: without one, giving up on a bad event fails and the consumer reads it again forever
    (brokers here do not create topics on first use)."""
    consumed = [container.topic(name) for name in config.WEBHOOK_TOPICS]
    return [container.events_topic, *consumed, *map(dead_letter_topic, consumed)]


def loops(container: Container, settings: dict) -> dict:
    """The worker's loops by name, each run on a thread of its own by run_loops."""
    return {"outbox-relay": container.outbox_relay().run,
            "idempotency-sweep": idempotency.sweep_loop(container.idempotency_records),
            "rate-limit-sweep": rate_limiting.sweep_loop(container.rate_limit_counters),
            "webhook-fan-out": container.webhook_fan_out_loop().run,
            "webhook-delivery": container.webhook_delivery_loop().run,
            "webhook-notice-sweep": webhook_endpoint_notices.owed_notices_loop(container.webhooks),
            "webhook-log-sweep": webhook_delivery.retention_loop(
                container.webhooks.deliveries, timedelta(days=settings["WEBHOOK_LOG_RETENTION_DAYS"]))}


def main() -> int:
    settings = load_or_exit(config.load, "gateway-worker")
    configure_logging(f"{config.SERVICE_NAME}-worker", settings["LOG_LEVEL"])
    container = Container(settings)
    container.ensure_indexes()
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], topics(container), settings["KAFKA_TOPIC_PARTITIONS"])
    return run_loops(loops(container, settings), heartbeat_file=settings["WORKER_HEARTBEAT_FILE"], stuck_after_s=settings["WORKER_STUCK_AFTER_S"],
                     metrics_port=settings["METRICS_PORT"], metrics_addr=settings["METRICS_ADDR"])


if __name__ == "__main__":
    sys.exit(main())
