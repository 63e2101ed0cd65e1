"""The only place that builds real adapters for the workflows service (lazily, per process)."""
from __future__ import annotations

from functools import cached_property

from crm_platform.event_codec import EventCodec
from crm_platform.event_consumer import EventConsumer
from crm_platform.event_store import MongoEventStore
from crm_platform.kafka_clients import kafka_answers, make_consumer, make_producer, topic_name
from crm_platform.leases import Lease
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.mongo import MongoConnection
from crm_platform.contracts.privacy import PRIVACY_TOPIC
from crm_platform.outbox_relay import OutboxRelay
from crm_platform.personal_data import MongoSubjectKeyStore, PersonalDataCipher
from crm_platform.privacy_exchange import ExportExchange
from crm_platform.privacy_participation import PrivacyRequestHandler
from crm_platform.projection_batches import ReadModels

from workflows import config, views
from workflows.adapters.boards_projection import BoardsProjection
from workflows.adapters.cards_projection import CardsProjection
from workflows.adapters.contacts_directory import MongoContactsDirectory
from workflows.adapters.mongo_cards_index import MongoCardsIndex
from workflows.service_layer import dispatch
from workflows.service_layer.privacy import WorkflowsPrivacyParticipant
from workflows.service_layer.unit_of_work import UnitOfWork


class Container:
    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.mongo = MongoConnection.from_settings(settings, app_name=config.SERVICE_NAME)

    @property
    def db(self):
        return self.mongo.database(self.settings["WORKFLOWS_DB"])

    @property
    def event_store(self) -> MongoEventStore:
        return MongoEventStore(self.db)

    @cached_property
    def cipher(self) -> PersonalDataCipher:
        keys = self.mongo.database(self.settings["KEYVAULT_DB"])["subject_keys"]
        return PersonalDataCipher(MongoSubjectKeyStore(keys, self.settings["MASTER_KEY"]))

    @cached_property
    def codec(self) -> EventCodec:
        """Decodes (and encodes) every event this service stores and publishes."""
        return UnitOfWork.event_codec(self.cipher)

    @cached_property
    def boards_projection(self) -> BoardsProjection:
        return BoardsProjection(self.db["boards"], self.codec)

    @cached_property
    def cards_projection(self) -> CardsProjection:
        return CardsProjection(self.db["cards"], self.codec)

    @cached_property
    def read_models(self) -> ReadModels:
        return ReadModels([self.boards_projection, self.cards_projection])

    @cached_property
    def contacts_directory(self) -> MongoContactsDirectory:
        return MongoContactsDirectory(self.db["contacts"])

    @cached_property
    def cards_index(self) -> MongoCardsIndex:
        return MongoCardsIndex(self.db["cards"])

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.event_store, self.cipher)

    @cached_property
    def bus(self) -> MessageBus:
        """Commands to their handler, events to theirs, with the handlers' dependencies injected once."""
        return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
            "uow": Fresh(self.unit_of_work), "cards": self.cards_index,
            "contacts": self.contacts_directory, "clock": views.utc_now_text})

    def privacy_handler(self) -> PrivacyRequestHandler:
        """Answers privacy requests (issue 13): this service's cards of a person, exported or erased."""
        participant = WorkflowsPrivacyParticipant(config.SERVICE_NAME, self.unit_of_work, self.cards_index,
                                                  self.contacts_directory)
        return PrivacyRequestHandler(config.SERVICE_NAME, participant, self.event_store, self.privacy_exchange)

    def privacy_loop(self, **options) -> EventConsumer:
        """The worker's loop of privacy requests: group workflows.privacy on privacy.events, answered by
        `privacy_handler` (options: EventConsumer's, such as a test's shorter retry_delay_s)."""
        return EventConsumer("workflows.privacy", self.privacy_consumer, self.producer, self.privacy_handler().handle,
                             **options)

    @cached_property
    def privacy_exchange(self) -> ExportExchange:
        """Where export parts go for the privacy service to assemble (a platform database, as the key vault)."""
        return ExportExchange.in_database(self.mongo.database(self.settings["PRIVACY_EXCHANGE_DB"]), self.cipher)

    @cached_property
    def events_topic(self) -> str:
        return topic_name(self.settings["KAFKA_TOPIC_NAMESPACE"], config.EVENTS_TOPIC)

    @cached_property
    def accounts_topic(self) -> str:
        return topic_name(self.settings["KAFKA_TOPIC_NAMESPACE"], config.ACCOUNTS_TOPIC)

    @cached_property
    def contacts_topic(self) -> str:
        return topic_name(self.settings["KAFKA_TOPIC_NAMESPACE"], config.CONTACTS_TOPIC)

    @cached_property
    def privacy_topic(self) -> str:
        return topic_name(self.settings["KAFKA_TOPIC_NAMESPACE"], PRIVACY_TOPIC)

    def kafka_answers(self) -> bool:
        return kafka_answers(self.settings["KAFKA_BOOTSTRAP_SERVERS"])

    def producer(self):
        return make_producer(self.settings["KAFKA_BOOTSTRAP_SERVERS"], client_id=f"{config.SERVICE_NAME}-producer")

    def projection_consumer(self):
        return self._consumer("projection", self.events_topic)

    def stage_removals_consumer(self):
        return self._consumer("stage-removals", self.events_topic)

    def account_setup_consumer(self):
        return self._consumer("account-setup", self.accounts_topic)

    def contacts_consumer(self):
        return self._consumer("contacts", self.contacts_topic)

    def privacy_consumer(self):
        return self._consumer("privacy", self.privacy_topic)

    def _consumer(self, purpose: str, topic: str):
        """A consumer in a group of its own per purpose (each group reads every event of the topic)."""
        return make_consumer(self.settings["KAFKA_BOOTSTRAP_SERVERS"],
                             group_id=f"{self.settings['KAFKA_TOPIC_NAMESPACE']}workflows.{purpose}",
                             topics=[topic], client_id=f"{config.SERVICE_NAME}-{purpose}")

    def outbox_relay(self) -> OutboxRelay:
        return OutboxRelay(self.event_store, self.events_topic, self.producer, Lease(self.db["leases"], "outbox-relay"))

    def ensure_indexes(self) -> None:
        self.event_store.ensure_indexes()
        self.boards_projection.ensure_indexes()
        self.cards_projection.ensure_indexes()
        self.contacts_directory.ensure_indexes()
