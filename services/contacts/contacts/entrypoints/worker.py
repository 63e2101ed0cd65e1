"""The contacts worker: outbox relay, read models, clean-ups after removals, new-account set-up; until SIGTERM."""
from __future__ import annotations

import logging
import sys

from crm_platform.event_consumer import EventConsumer
from crm_platform.jobs import JobRunner
from crm_platform.json_logging import configure_logging
from crm_platform.settings import load_or_exit
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics
from crm_platform.worker_runtime import run_loops

from contacts import config, views
from contacts.bootstrap import Container
from contacts.service_layer import custom_field_handlers, import_handlers, label_handlers, option_handlers

log = logging.getLogger(__name__)


def main() -> int:
    settings = load_or_exit(config.load, "contacts-worker")
    configure_logging(f"{config.SERVICE_NAME}-worker", settings["LOG_LEVEL"])
    container = Container(settings)
    container.ensure_indexes()
    topic = container.events_topic
    accounts = container.accounts_topic  # the gateway's; ensured here too so we can subscribe whoever starts first
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], [topic, dead_letter_topic(topic), accounts, dead_letter_topic(accounts)],
                  settings["KAFKA_TOPIC_PARTITIONS"])
    projections = EventConsumer(
        "contacts.projection", container.projection_consumer, container.producer, container.apply_to_projections,
        batch_context=container.projection_batch,
    )
    contacts_view = container.projection.collection

    def clean_up(event) -> None:
        """After a label, custom field or option is removed, take it off every contact."""
        label_handlers.remove_deleted_label(
            event, lambda account, key: views.contact_ids_with_label(contacts_view, account, key),
            container.unit_of_work())
        custom_field_handlers.remove_values_of_removed_field(
            event, lambda account, key: views.contact_ids_with_custom_value(contacts_view, account, key),
            container.unit_of_work())
        option_handlers.take_removed_option_off_contacts(
            event, lambda account, field, key: views.contact_ids_using_option(contacts_view, account, field, key),
            container.unit_of_work())

    cleanup = EventConsumer("contacts.cleanup", container.cleanup_consumer, container.producer, clean_up)
    account_setup = EventConsumer(
        "contacts.account-setup", container.account_setup_consumer, container.producer,
        lambda e: label_handlers.give_new_account_its_labels(e, container.unit_of_work(), config.DEFAULT_LABELS),
    )
    labels = container.labels_projection.collection
    import_batches = import_handlers.ImportBatches(
        container.imports, container.uploads, container.unit_of_work,
        lambda account, name: views.label_key_by_name(labels, account, name), settings["DEFAULT_PHONE_REGION"],
        lambda account, ids: views.deleted_contact_ids(contacts_view, account, ids))
    jobs = JobRunner(container.jobs, {
        label_handlers.BULK_LABEL_JOB: lambda job, item: label_handlers.bulk_label_step(job, item, container.unit_of_work()),
        import_handlers.IMPORT_JOB: import_batches,
    })
    return run_loops(
        {"outbox-relay": container.outbox_relay().run, "projections": projections.run,
         "cleanup": cleanup.run, "account-setup": account_setup.run, "jobs": jobs.run},
        heartbeat_file=settings["WORKER_HEARTBEAT_FILE"],
    )


if __name__ == "__main__":
    sys.exit(main())
