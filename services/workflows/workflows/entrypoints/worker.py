"""The workflows worker: outbox relay, read models, contacts' timelines (issue 14), removed stages' last cards, new
accounts' default board, contacts' lives, privacy requests, task reminders and their e-mails; until SIGTERM."""
from __future__ import annotations

import sys

from crm_platform.contracts.accounts import ACCOUNTS_EVENTS_CLASSES
from crm_platform.contracts.contacts import CONTACT_FACT_CLASSES
from crm_platform.event_codec import EventCodec
from crm_platform.event_consumer import EventConsumer
from crm_platform.json_logging import configure_logging
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics
from crm_platform.message_bus import EventsToBus
from crm_platform.settings import load_or_exit
from crm_platform.worker_runtime import every, run_loops

from workflows import config
from workflows.adapters.reminder_mail import note_reminder_mail_outcome, restricted_reminder
from workflows.bootstrap import Container

REMINDERS_EVERY_S = 1.0


def main() -> int:
    settings = load_or_exit(config.load, "workflows-worker")
    configure_logging(f"{config.SERVICE_NAME}-worker", settings["LOG_LEVEL"])
    container = Container(settings)
    container.ensure_indexes()
    topics = [container.events_topic, container.accounts_topic, container.contacts_topic, container.privacy_topic]
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [*topics, *map(dead_letter_topic, topics)],
                  settings["KAFKA_TOPIC_PARTITIONS"])
    projection = EventConsumer("workflows.projection", container.projection_consumer, container.producer,
                               container.read_models.apply)
    timeline = EventConsumer("workflows.timeline", container.timeline_consumer, container.producer,
                             container.apply_to_timeline)
    stage_removals = EventConsumer("workflows.stage-removals", container.stage_removals_consumer, container.producer,
                                   EventsToBus(container.codec, container.bus))
    account_setup = EventConsumer("workflows.account-setup", container.account_setup_consumer, container.producer,
                                  EventsToBus(EventCodec(ACCOUNTS_EVENTS_CLASSES), container.bus))
    contact_facts = EventCodec(CONTACT_FACT_CLASSES)
    contacts = EventConsumer("workflows.contacts", container.contacts_consumer, container.producer,
                             EventsToBus(contact_facts, container.bus),
                             batch_context=container.contacts_batch(contact_facts))
    privacy = container.privacy_loop()
    return run_loops(
        {"outbox-relay": container.outbox_relay().run, "projection": projection.run, "timeline": timeline.run,
         "stage-removals": stage_removals.run, "account-setup": account_setup.run, "contacts": contacts.run,
         "privacy": privacy.run,
         "task-reminders": every(REMINDERS_EVERY_S, container.reminder_scheduler().fire_due, "task reminders"),
         "mail": container.mail_loop(note_reminder_mail_outcome, restricted_notice=restricted_reminder)},
        heartbeat_file=settings["WORKER_HEARTBEAT_FILE"],
        stuck_after_s=settings["WORKER_STUCK_AFTER_S"],
        metrics_port=settings["METRICS_PORT"], metrics_addr=settings["METRICS_ADDR"],
    )


if __name__ == "__main__":
    sys.exit(main())
