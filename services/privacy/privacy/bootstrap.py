"""The only place that builds real adapters for the privacy service (lazily, per process)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cached_property, partial

from crm_platform import registry
from crm_platform.kafka_clients import make_consumer
from crm_platform.leases import Lease
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.privacy_exchange import ExportExchange
from crm_platform.service_container import ServiceContainer

from privacy import config
from privacy.adapters.contacts_directory import LOOKUP_SECRET, ContactsDirectory
from privacy.adapters.exchange_exports import ExchangeExports
from privacy.adapters.requests_projection import PrivacyRequestsProjection
from privacy.adapters.signing import CertificateSigner
from privacy.adapters.system_scan import SystemScan
from privacy.service_layer import dispatch
from privacy.service_layer.ports import Policy
from privacy.service_layer.unit_of_work import UnitOfWork


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Container(ServiceContainer):
    service_name = config.SERVICE_NAME
    database_setting = "PRIVACY_DB"
    events_topic_name = config.EVENTS_TOPIC
    unit_of_work_class = UnitOfWork
    lasting_secrets = (LOOKUP_SECRET.split("{", 1)[0],)  # an account's, read for every polled batch, never shredded

    def __init__(self, settings: dict, clock=utc_now) -> None:
        super().__init__(settings)
        self.clock = clock  # tests move time forward to run the sweeps

    @cached_property
    def projection(self) -> PrivacyRequestsProjection:
        return PrivacyRequestsProjection(self.db["privacy_requests"], self.codec)

    @cached_property
    def contacts_directory(self) -> ContactsDirectory:
        return ContactsDirectory(self.db["contacts_directory"], self.cipher)

    @property
    def exchange(self) -> ExportExchange:
        """Where the services' export parts come, assembled here into the export (the kernel's privacy_exchange)."""
        return self.privacy_exchange

    @cached_property
    def signer(self) -> CertificateSigner:
        return CertificateSigner(self.settings["PRIVACY_SIGNING_KEY"])

    @cached_property
    def policy(self) -> Policy:
        return Policy(services=registry.load().personal_data_services,
                      reply_timeout=timedelta(seconds=self.settings["PRIVACY_REPLY_TIMEOUT_S"]),
                      export_ttl=timedelta(seconds=self.settings["PRIVACY_EXPORT_TTL_S"]),
                      request_retention=timedelta(days=self.settings["PRIVACY_REQUEST_RETENTION_DAYS"]))

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.event_store, self.cipher)

    @cached_property
    def bus(self) -> MessageBus:
        """Commands to their handler, events to theirs, with the handlers' dependencies injected once."""
        return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
            "uow": Fresh(self.unit_of_work), "family": self.contacts_directory.family,
            "lookup": self.contacts_directory.holders_of, "email_hash": self.contacts_directory.email_hash,
            "phone_lookup": self.contacts_directory.holders_of_phone, "phone_hash": self.contacts_directory.phone_hash,
            "shred_subject": self.cipher.shred, "known_values": self.contacts_directory.known_values,
            "scanner": self.system_scan,
            "contact_known": partial(self.contacts_directory.knows, wait_s=self.settings["PRIVACY_CONTACT_WAIT_S"]),
            "exports": ExchangeExports(self.exchange), "policy": self.policy, "clock": lambda: self.clock()})

    def overdue_requests(self, now: datetime):
        """(account id, request id) of the requests still waiting for replies past the timeout (or for their
        ZIP, or for confirmation past their deadline)."""
        return self.projection.overdue(now - self.policy.reply_timeout, now)

    def expired_exports(self, now: datetime):
        return self.projection.expired_exports(now)

    def records_past_retention(self, now: datetime):
        """(account id, request id) of the requests ended before the retention, their record not yet shredded."""
        return self.projection.ended_before(now - self.policy.request_retention)

    @cached_property
    def system_scan(self) -> SystemScan:
        """The worker's scan of every database and topic after an erasure (the API never runs it); it renews the
        verification lease as it reads, so that no other worker starts the same scan meanwhile."""
        return SystemScan(self.mongo.client, self.settings["PRIVACY_VERIFY_DATABASES"],
                          self.settings["KAFKA_BOOTSTRAP_SERVERS"], self.settings["KAFKA_TOPIC_NAMESPACE"],
                          self.settings["PRIVACY_VERIFY_TIMEOUT_S"], keep_lease=self.verification_lease)

    def erasures_to_verify(self, now: datetime):
        """(account id, request id) of the erasures ended (or answered again) since their last scan, whose rescan
        time (if any) has come."""
        return self.projection.to_verify(now)

    @cached_property
    def verification_lease(self) -> Lease:
        return self.lease("erasure-verifications")

    def timeout_lease(self) -> Lease:
        return self.lease("request-timeouts")

    def expiry_lease(self) -> Lease:
        return self.lease("export-expiries")

    @cached_property
    def contacts_topic(self) -> str:
        return self.topic(config.CONTACTS_TOPIC)

    @cached_property
    def reply_topics_by_service(self) -> dict[str, list[str]]:
        """Each service asked (the registry's personal_data services) -> the topics it produces, where its
        replies come."""
        services = registry.load()
        return {name: [self.topic(topic) for topic in services.service(name).produces] for name in self.policy.services}

    @cached_property
    def reply_topics(self) -> list[str]:
        return [topic for topics in self.reply_topics_by_service.values() for topic in topics]

    def projection_consumer(self):
        return self.consumer("projection", self.events_topic)

    def replies_consumer(self, service: str):
        """The replies of one service, on its own topics, in a group of its own (`privacy.replies.<service>`).
        Not one group with a member per service: a member subscribed to other topics than the group leader's
        was left without partitions until the leader's metadata came to know its topics, and replies waited."""
        return make_consumer(self.settings["KAFKA_BOOTSTRAP_SERVERS"],
                             group_id=f"{self.settings['KAFKA_TOPIC_NAMESPACE']}privacy.replies.{service}",
                             topics=self.reply_topics_by_service[service],
                             client_id=f"{config.SERVICE_NAME}-replies-{service}")

    def contacts_consumer(self):
        return self.consumer("contacts", self.contacts_topic)

    def ensure_indexes(self) -> None:
        super().ensure_indexes()
        self.projection.ensure_indexes()
        self.contacts_directory.ensure_indexes()
