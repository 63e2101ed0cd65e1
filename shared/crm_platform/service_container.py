"""The base of every service's Container (its bootstrap.py): the kernel's adapters, built lazily, per process.

A service's Container subclasses ServiceContainer, names the service, the setting of its database, the topic it
publishes on and its unit of work, and adds its own read models, ports and consumers. Nothing here connects
before it is used: gunicorn workers build their own clients (a MongoClient is not fork-safe).
"""
from __future__ import annotations

from functools import cached_property
from typing import Callable

from crm_platform.contracts.privacy import PRIVACY_TOPIC
from crm_platform.event_codec import EventCodec
from crm_platform.event_consumer import EventConsumer
from crm_platform.event_store import MongoEventStore
from crm_platform.kafka_clients import kafka_answers, make_consumer, make_producer, topic_name
from crm_platform.leases import Lease
from crm_platform.mail import MailDispatcher, MailOutbox, MailOutcome, SmtpSender
from crm_platform.mongo import MongoConnection
from crm_platform.outbox_relay import OutboxRelay
from crm_platform.personal_data import MongoSubjectKeyStore, PersonalDataCipher
from crm_platform.privacy_exchange import ExportExchange
from crm_platform.privacy_participation import PrivacyParticipant, PrivacyRequestHandler
from crm_platform.processing_restrictions import ProcessingRestrictions


class ServiceContainer:
    """The settings, database, event store, key vault, topics, producer, consumers, outbox relay and leases of one
    service, its mail outbox and dispatcher, and its part in privacy requests (given its `privacy_participant`)."""

    service_name: str  # the registry's name: the MongoDB app name, Kafka client ids and consumer groups
    database_setting: str  # the setting naming the service's own database (such as "BILLING_DB")
    events_topic_name: str  # the topic the outbox relay publishes the service's events on (without namespace)
    unit_of_work_class: type | None = None  # a crm_platform.unit_of_work.UnitOfWork: the events `codec` knows
    # the prefixes of the key-vault subjects whose secret is never shredded (an account's for hashing identities):
    # the cipher keeps them once read (PersonalDataCipher)
    lasting_secrets: tuple[str, ...] = ()

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.mongo = MongoConnection.from_settings(settings, app_name=self.service_name)

    @property
    def db(self):
        return self.mongo.database(self.settings[self.database_setting])

    @property
    def event_store(self) -> MongoEventStore:
        return MongoEventStore(self.db)

    @cached_property
    def subject_keys(self) -> MongoSubjectKeyStore:
        """The key vault every service shares (a platform database, KEYVAULT_DB)."""
        return MongoSubjectKeyStore(self.mongo.database(self.settings["KEYVAULT_DB"])["subject_keys"],
                                    self.settings["MASTER_KEY"])

    @cached_property
    def cipher(self) -> PersonalDataCipher:
        """One per process: its bulk-read keys are per thread and per block (see keys_ready)."""
        return PersonalDataCipher(self.subject_keys, self.lasting_secrets)

    @cached_property
    def codec(self) -> EventCodec:
        """Decodes (and encodes) every event this service stores and publishes."""
        return self.unit_of_work_class.event_codec(self.cipher)

    def lease(self, name: str) -> Lease:
        """One holder of `name` for the whole system (a sweep, a scheduler, the relay): the worker holding it."""
        return Lease(self.db["leases"], name)

    def ensure_indexes(self) -> None:
        """The kernel's indexes; a subclass adds its read models' (calling this first)."""
        self.event_store.ensure_indexes()
        if "KEYVAULT_DB" in self.settings:  # a service holding personal data (PersonalDataSettings): the gateway not
            self.subject_keys.ensure_indexes()

    # Kafka

    def topic(self, name: str) -> str:
        """The full name of a topic in this environment (KAFKA_TOPIC_NAMESPACE + name)."""
        return topic_name(self.settings["KAFKA_TOPIC_NAMESPACE"], name)

    @cached_property
    def events_topic(self) -> str:
        return self.topic(self.events_topic_name)

    @cached_property
    def privacy_topic(self) -> str:
        return self.topic(PRIVACY_TOPIC)

    def kafka_answers(self) -> bool:
        return kafka_answers(self.settings["KAFKA_BOOTSTRAP_SERVERS"])

    def producer(self):
        return make_producer(self.settings["KAFKA_BOOTSTRAP_SERVERS"], client_id=f"{self.service_name}-producer")

    def consumer(self, purpose: str, *topics: str):
        """A consumer in a group of its own per purpose (each group reads every event of its topics)."""
        return make_consumer(self.settings["KAFKA_BOOTSTRAP_SERVERS"],
                             group_id=f"{self.settings['KAFKA_TOPIC_NAMESPACE']}{self.service_name}.{purpose}",
                             topics=list(topics), client_id=f"{self.service_name}-{purpose}")

    def outbox_relay(self) -> OutboxRelay:
        return OutboxRelay(self.event_store, self.events_topic, self.producer, self.lease("outbox-relay"))

    # Mail (crm_platform.mail, docs/mail.md), for the services that mail people (settings: MailSettings)

    def mail_outbox(self) -> MailOutbox:
        """Where this service queues its mails: `mail_outbox` in its own database, sealed per person."""
        return MailOutbox(self.db["mail_outbox"], self.cipher)

    def mail_loop(self, on_outcome: Callable[[MailOutcome], None], restricted_notice=None):
        """The worker's loop sending this service's mails over SMTP, in the worker holding the lease `mail-dispatch`;
        each outcome goes to `on_outcome` (idempotent: an outcome may be reported twice after a crash). A
        notification about a restricted contact is sent as `restricted_notice` makes it (MailDispatcher)."""
        outbox = self.mail_outbox()
        outbox.ensure_indexes()  # here, not in ensure_indexes: only a service that sends mail has the collection
        return MailDispatcher(outbox, SmtpSender.from_settings(self.settings), on_outcome,
                              lease=self.lease("mail-dispatch"), restrictions=self.processing_restrictions(),
                              restricted_notice=restricted_notice).run

    # Privacy requests (crm_platform.privacy_participation), for the services holding personal data

    def privacy_participant(self) -> PrivacyParticipant:
        """What this service exports and erases of a person; a service holding personal data overrides it."""
        raise NotImplementedError(f"{self.service_name} takes no part in privacy requests")

    @cached_property
    def privacy_exchange(self) -> ExportExchange:
        """Where export parts go for the privacy service to assemble (a platform database, as the key vault)."""
        return ExportExchange.in_database(self.mongo.database(self.settings["PRIVACY_EXCHANGE_DB"]), self.cipher)

    def privacy_handler(self) -> PrivacyRequestHandler:
        """Answers privacy's requests naming this service, with its `privacy_participant`."""
        return PrivacyRequestHandler(self.service_name, self.privacy_participant(), self.event_store,
                                     self.privacy_exchange, restrictions=self.processing_restrictions())

    def privacy_consumer(self):
        return self.consumer("privacy", self.privacy_topic)

    def privacy_loop(self, **options) -> EventConsumer:
        """The worker's loop of privacy requests: group <service>.privacy on privacy.events, answered by
        `privacy_handler` (options: EventConsumer's, such as a test's shorter retry_delay_s)."""
        return EventConsumer(f"{self.service_name}.privacy", self.privacy_consumer, self.producer,
                             self.privacy_handler().handle, **options)

    def processing_restrictions(self) -> ProcessingRestrictions:
        """The contacts whose processing is restricted (Art. 18), kept by `privacy_handler`; the service's command
        handlers refuse their edits (`refuse_edits`)."""
        return ProcessingRestrictions(self.db["processing_restrictions"])
