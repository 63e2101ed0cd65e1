"""The billing worker: outbox relay, billing's read models and its contacts' timelines (issue 14), customers from
contacts.events, privacy's requests (issue 13), the PDF of each invoice and credit note kept as it is issued (or
voided), documents sent by e-mail (their mails queued, sent, and each outcome recorded: issue 11), the sweep of
interrupted issues, the recurring-invoice scheduler, the retention job and the backfill of the documents' parties
(each of these four only in the worker holding its lease); until SIGTERM."""
from __future__ import annotations

import sys

from crm_platform.event_consumer import EventConsumer
from crm_platform.json_logging import configure_logging
from crm_platform.kafka_clients import dead_letter_topic, ensure_topics
from crm_platform.settings import load_or_exit
from crm_platform.worker_runtime import every, run_loops

from billing import config
from billing.bootstrap import Container
from billing.service_layer import issue_sweep, recurring_scheduler, retention

BACKFILL_EVERY_S = 300.0  # a round that did not complete (an outage, another worker's lease) is tried again then


def main() -> int:
    settings = load_or_exit(config.load, "billing-worker")
    configure_logging(f"{config.SERVICE_NAME}-worker", settings["LOG_LEVEL"])
    container = Container(settings)
    container.ensure_indexes()
    # contacts' and privacy's topics: ensured too, whoever starts first
    read = [container.events_topic, container.contacts_topic, container.privacy_topic]
    topics = [name for topic in read for name in (topic, dead_letter_topic(topic))]
    ensure_topics(settings["KAFKA_BOOTSTRAP_SERVERS"], topics, settings["KAFKA_TOPIC_PARTITIONS"])
    customers = EventConsumer("billing.customers", container.customers_consumer, container.producer,
                              container.apply_to_customers, batch_context=container.customers_batch)
    documents = EventConsumer("billing.documents", container.documents_consumer, container.producer,
                              container.apply_to_documents, batch_context=container.documents_batch)
    timeline = EventConsumer("billing.timeline", container.timeline_consumer, container.producer,
                             container.apply_to_timeline)
    printing = EventConsumer("billing.printing", container.printing_consumer, container.producer,
                             container.keep_printed)
    privacy = container.privacy_loop()
    # a recorded send's mails, queued in the outbox (docs/mail.md); the mail loop sends them and records outcomes
    mail_requests = EventConsumer("billing.mail", container.mail_consumer, container.producer, container.queue_mails)
    retention_lease, parties_lease = container.retention_lease(), container.document_parties_lease()
    try:
        return run_loops(
            {"outbox-relay": container.outbox_relay().run, "customers": customers.run, "documents": documents.run,
             "timeline": timeline.run,
             "privacy": privacy.run, "printing": printing.run, "mail-requests": mail_requests.run,
             "mail": container.mail_loop(container.record_mail_outcome),
             # the parties of the documents stored before they were noted, until that has completed once (two
             # passes, the second after a rolling update has settled): until then a privacy listing compares the
             # read models with the account's commits (person_documents.py)
             "document-parties": every(BACKFILL_EVERY_S, lambda: container.note_document_parties(parties_lease),
                                       "document parties backfill"),
             "retention": retention.retention_loop(lambda: container.end_expired_retentions(retention_lease)),
             "issue-sweep": issue_sweep.sweep_loop(container.bus, container.interrupted_issues,
                                                   container.sweep_lease(), container.retry_backoff),
             "recurring-scheduler": recurring_scheduler.scheduler_loop(container.bus, container.due_recurring_invoices,
                                                                       container.scheduler_lease(),
                                                                       container.retry_backoff,
                                                                       settings["RECURRING_SCHEDULE_EVERY_S"])},
            heartbeat_file=settings["WORKER_HEARTBEAT_FILE"],
            stuck_after_s=settings["WORKER_STUCK_AFTER_S"],
            metrics_port=settings["METRICS_PORT"], metrics_addr=settings["METRICS_ADDR"],
        )
    finally:  # the PDF render process (adapters/render_process.py) stopped with the worker
        container.close_printing_renderer()


if __name__ == "__main__":
    sys.exit(main())
