"""The privacy worker: outbox relay, the requests read model, the services' replies, contacts' merge families,
and the sweeps (replies timed out, exports expired, erasures verified; each in the worker holding its lease);
until SIGTERM."""
from __future__ import annotations

import sys
from functools import partial

from crm_platform.contracts.privacy import PRIVACY_REPLY_CLASSES
from crm_platform.event_codec import EventCodec
from crm_platform.event_consumer import EventConsumer
from crm_platform.json_logging import configure_logging
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics
from crm_platform.envelope import EventEnvelope
from crm_platform.message_bus import MessageBus
from crm_platform.settings import load_or_exit
from crm_platform.worker_runtime import run_loops

from privacy import config
from privacy.bootstrap import Container
from privacy.domain.commands import RecordReply
from privacy.service_layer import sweeps


def main() -> int:
    settings = load_or_exit(config.load, "privacy-worker")
    configure_logging(f"{config.SERVICE_NAME}-worker", settings["LOG_LEVEL"])
    container = Container(settings)
    container.ensure_indexes()
    topics = list(dict.fromkeys([container.events_topic, container.contacts_topic, *container.reply_topics]))
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [*topics, *map(dead_letter_topic, topics)],
                  settings["KAFKA_TOPIC_PARTITIONS"])
    projection = EventConsumer("privacy.projection", container.projection_consumer, container.producer,
                               container.projection.apply)
    replies = {f"replies-{service}": replies_consumer(container, service).run
               for service in container.policy.services}
    contacts = EventConsumer("privacy.contacts", container.contacts_consumer, container.producer,
                             container.contacts_directory.apply, batch_context=container.contacts_directory.batch)
    every_s = settings["PRIVACY_SWEEP_EVERY_S"]
    return run_loops(
        {"outbox-relay": container.outbox_relay().run, "projection": projection.run, **replies,
         "contacts": contacts.run,
         "timeouts": sweeps.timeout_loop(container.bus, container.overdue_requests, container.timeout_lease(),
                                         container.clock, every_s),
         "expiries": sweeps.expiry_loop(container.bus, container.expired_exports,
                                        container.records_past_retention, container.expiry_lease(),
                                        container.clock, every_s),
         "verifications": sweeps.verification_loop(container.bus, container.erasures_to_verify,
                                                   container.verification_lease, container.clock,
                                                   settings["PRIVACY_VERIFY_EVERY_S"])},
        heartbeat_file=settings["WORKER_HEARTBEAT_FILE"],
        stuck_after_s=settings["WORKER_STUCK_AFTER_S"],
        metrics_port=settings["METRICS_PORT"], metrics_addr=settings["METRICS_ADDR"],
    )


def replies_consumer(container: Container, service: str) -> EventConsumer:
    """One asked service's replies, on its own topics; its other events are passed over undecoded."""
    return EventConsumer(f"privacy.replies.{service}", partial(container.replies_consumer, service),
                         container.producer, RepliesOf(service, container.bus))


class RepliesOf:
    """The replies read on `service`'s topics, to the bus as that service's: a reply naming another service
    (or of another request type) is the handler's to pass over."""

    def __init__(self, service: str, bus: MessageBus) -> None:
        self.service = service
        self._bus = bus
        self._codec = EventCodec(PRIVACY_REPLY_CLASSES)

    def __call__(self, envelope: EventEnvelope) -> None:
        if self._codec.knows(envelope.event_type):
            self._bus.handle(RecordReply(self._codec.from_envelope(envelope), self.service))


if __name__ == "__main__":
    sys.exit(main())
