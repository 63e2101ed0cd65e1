"""Running an EventConsumer in a test until it has handled what the test sent, on the real broker."""
from __future__ import annotations

import threading
import time

from crm_platform.event_consumer import EventConsumer
from crm_platform.kafka_clients import ensure_topics


def run_until_processed(consumer: EventConsumer, count: int, timeout_s: float = 60.0) -> EventConsumer:
    """Run the consumer's loop on a thread until it processed `count` events or `timeout_s` passed, then stop it;
    the consumer, for the test to assert on its `processed` and `dead_lettered`."""
    _run_while(consumer, lambda: consumer.processed < count, timeout_s)
    return consumer


def run_until(consumer: EventConsumer, condition, timeout_s: float = 45.0) -> None:
    """Run the consumer's loop on a thread until `condition()` holds, then stop it; AssertionError if it does not
    hold within `timeout_s`."""
    _run_while(consumer, lambda: not condition(), timeout_s)
    assert condition(), "the consumer did not get there in time"


def _run_while(consumer: EventConsumer, going_on, timeout_s: float) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + timeout_s
    try:
        while going_on() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)


def relay_and_consume(container, bootstrap_servers: str, group: str, kafka_consumer, handle) -> int:
    """What a service's worker does with the events its API just stored: the outbox relay publishes them to the
    service's topic, then one of its consumers (`group`, reading with `kafka_consumer`, each event to `handle`)
    takes every one; how many were relayed."""
    ensure_topics(bootstrap_servers, [container.events_topic], 1)
    relayed = container.outbox_relay().publish_pending()
    consumer = EventConsumer(group, kafka_consumer, container.producer, handle)
    assert run_until_processed(consumer, relayed).processed == relayed
    return relayed
