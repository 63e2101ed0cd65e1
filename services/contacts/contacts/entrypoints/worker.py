"""The contacts worker: outbox relay, read models, clean-ups after removals, new-account set-up, privacy requests,
messages' mail (sent, and each outcome recorded on its message); until SIGTERM."""
from __future__ import annotations

import logging
import sys

from crm_platform.contracts.accounts import ACCOUNTS_EVENTS_CLASSES
from crm_platform.event_codec import EventCodec
from crm_platform.event_consumer import EventConsumer
from crm_platform.jobs import CommandStep, JobRunner
from crm_platform.json_logging import configure_logging
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics
from crm_platform.message_bus import EventsToBus
from crm_platform.settings import load_or_exit
from crm_platform.worker_runtime import run_loops

from contacts import config
from contacts.bootstrap import Container
from contacts.service_layer import import_handlers, import_retention, label_handlers

log = logging.getLogger(__name__)


def main() -> int:
    settings = load_or_exit(config.load, "contacts-worker")
    configure_logging(f"{config.SERVICE_NAME}-worker", settings["LOG_LEVEL"])
    container = Container(settings)
    container.ensure_indexes()
    topic = container.events_topic
    accounts = container.accounts_topic  # the gateway's; ensured here too so we can subscribe whoever starts first
    privacy = container.privacy_topic  # the privacy service's; ensured here too, as the accounts topic is
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"],
                  [name for consumed in (topic, accounts, privacy) for name in (consumed, dead_letter_topic(consumed))],
                  settings["KAFKA_TOPIC_PARTITIONS"])
    projections = EventConsumer(
        "contacts.projection", container.projection_consumer, container.producer, container.apply_to_projections,
        batch_context=container.projection_batch,
    )
    # After a label, custom field or option is removed, the clean-ups take it off every contact.
    cleanup = EventConsumer("contacts.cleanup", container.cleanup_consumer, container.producer,
                            EventsToBus(container.codec, container.bus))
    account_setup = EventConsumer("contacts.account-setup", container.account_setup_consumer, container.producer,
                                  EventsToBus(EventCodec(ACCOUNTS_EVENTS_CLASSES), container.bus))
    privacy_requests = container.privacy_loop()
    jobs = JobRunner(container.jobs, {
        label_handlers.BULK_LABEL_JOB: CommandStep(container.bus, label_handlers.bulk_label_command),
        import_handlers.IMPORT_JOB: container.import_batches(),
    })
    return run_loops(
        {"outbox-relay": container.outbox_relay().run, "projections": projections.run,
         "cleanup": cleanup.run, "account-setup": account_setup.run, "privacy": privacy_requests.run, "jobs": jobs.run,
         "import-retention": import_retention.sweep_loop(container.imports, container.uploads, container.jobs),
         "mail": container.mail_loop(container.message_outcomes()),
         "message-requeue": container.message_requeue_loop()},
        heartbeat_file=settings["WORKER_HEARTBEAT_FILE"],
        stuck_after_s=settings["WORKER_STUCK_AFTER_S"],
        metrics_port=settings["METRICS_PORT"], metrics_addr=settings["METRICS_ADDR"],
    )


if __name__ == "__main__":
    sys.exit(main())
