"""The only place that builds real adapters for the workflows service (lazily, per process)."""
from __future__ import annotations

import contextlib
from functools import cached_property
from typing import Callable

from crm_platform.contracts.contacts import ContactCreatedFact
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.outages import is_transient
from crm_platform.personal_data import is_sealed
from crm_platform.projection_batches import ReadModels
from crm_platform.service_container import ServiceContainer
from crm_platform.timeline import TimelineProjection
from crm_platform.timeline_follower import TimelineFollower

from workflows import config, views
from workflows.adapters.boards_projection import BoardsProjection
from workflows.adapters.cards_projection import CardsProjection
from workflows.adapters.contacts_directory import MongoContactsDirectory
from workflows.adapters.mongo_cards_index import MongoCardsIndex
from workflows.adapters.reminder_mail import OutboxReminderMailer
from workflows.adapters.task_reminders_projection import MongoDueReminders, TaskRemindersProjection
from workflows.adapters.tasks_projection import MongoTasksIndex, TasksProjection
from workflows.service_layer import dispatch
from workflows.service_layer.privacy import WorkflowsPrivacyParticipant
from workflows.domain.cards import CARD_SUBJECT
from workflows.service_layer.reminder_scheduler import LEASE_NAME, ReminderScheduler
from workflows.service_layer.timeline_entries import ENTRY_EVENTS, timeline_entries
from workflows.service_layer.unit_of_work import UnitOfWork


class Container(ServiceContainer):
    service_name = config.SERVICE_NAME
    database_setting = "WORKFLOWS_DB"
    events_topic_name = config.EVENTS_TOPIC
    unit_of_work_class = UnitOfWork

    @cached_property
    def boards_projection(self) -> BoardsProjection:
        return BoardsProjection(self.db["boards"], self.codec)

    @cached_property
    def cards_projection(self) -> CardsProjection:
        return CardsProjection(self.db["cards"], self.codec)

    @cached_property
    def tasks_projection(self) -> TasksProjection:
        return TasksProjection(self.db["tasks"], self.codec)

    @cached_property
    def task_reminders_projection(self) -> TaskRemindersProjection:
        return TaskRemindersProjection(self.db["task_reminders"], self.codec)

    @cached_property
    def read_models(self) -> ReadModels:
        return ReadModels([self.boards_projection, self.cards_projection, self.tasks_projection,
                           self.task_reminders_projection])

    @cached_property
    def timeline(self) -> TimelineProjection:
        """Workflows' entries of its contacts' timelines (issue 14): the history of their cards and tasks."""
        return TimelineProjection(self.db["timeline"])

    @cached_property
    def timeline_follower(self) -> TimelineFollower:
        return TimelineFollower(self.timeline, self.codec, timeline_entries, self.erased_contacts, ENTRY_EVENTS,
                                survivor=self.contacts_directory.survivor)

    def erased_contacts(self, account_id: str, contact_ids: list[str]) -> set[str]:
        """Those of these contacts workflows erased: their key here, `workflows-subject:<id>`, is shredded."""
        subjects = {CARD_SUBJECT.format(contact_id=contact_id): contact_id for contact_id in contact_ids}
        return {subjects[subject] for subject in self.cipher.erased_among(list(subjects))}

    def apply_to_timeline(self, envelope, rebuilding: bool = False) -> None:
        """Give one of workflows' own events to its contacts' timelines (none for a contact erased here)."""
        self.timeline_follower.apply(envelope, rebuilding=rebuilding)

    @cached_property
    def tasks_index(self) -> MongoTasksIndex:
        return MongoTasksIndex(self.db["tasks"])

    @cached_property
    def due_reminders(self) -> MongoDueReminders:
        return MongoDueReminders(self.db["task_reminders"])

    @cached_property
    def contacts_directory(self) -> MongoContactsDirectory:
        return MongoContactsDirectory(self.db["contacts"])

    @cached_property
    def cards_index(self) -> MongoCardsIndex:
        return MongoCardsIndex(self.db["cards"])

    def reminder_scheduler(self) -> ReminderScheduler:
        """Fires due task reminders and queues their e-mails, in the one worker holding the lease `task-reminders`."""
        return ReminderScheduler(self.unit_of_work, self.due_reminders, OutboxReminderMailer(self.mail_outbox()),
                                 self.lease(LEASE_NAME))

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.event_store, self.cipher)

    @cached_property
    def bus(self) -> MessageBus:
        """Commands to their handler, events to theirs, with the handlers' dependencies injected once."""
        return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, {
            "uow": Fresh(self.unit_of_work), "cards": self.cards_index, "tasks": self.tasks_index,
            "contacts": self.contacts_directory, "timeline": self.timeline,
            "timeline_follower": self.timeline_follower, "clock": views.utc_now_text,
            "restrictions": self.processing_restrictions()})

    def privacy_participant(self) -> WorkflowsPrivacyParticipant:
        """Privacy requests (issue 13): this service's cards and tasks of a person, exported or erased."""
        return WorkflowsPrivacyParticipant(config.SERVICE_NAME, self.unit_of_work, self.cards_index,
                                           self.contacts_directory, self.tasks_index, self.timeline,
                                           self.project_now)

    def project_now(self, aggregate_ids: list[str]) -> None:
        """Give the cards and tasks read models the latest event of each of these cards and tasks now, not when the
        projection consumer gets to it: each such event carries its aggregate's whole state, and a write of an older
        version than the read model's is refused (versioned), so the consumer applying the same events later changes
        nothing. (Not the task reminders' read model: a document per reminder instant, not versioned per task; it
        holds no personal data, and its consumer brings it up to date.) On FerretDB the versioned write is not
        atomic: the consumer writing a newer version at the same instant may be overwritten until its next event."""
        latest = [history[-1] for history in self.event_store.load_each(list(dict.fromkeys(aggregate_ids))).values()
                  if history]
        subjects = sorted({sealed["subject"] for envelope in latest
                           if is_sealed(sealed := envelope.payload.get("personal"))})
        with self.cipher.keys_ready(subjects):  # one read of each key (the erased person's: found shredded)
            for envelope in latest:
                for projection in (self.cards_projection, self.tasks_projection):
                    projection.apply(envelope)

    @cached_property
    def accounts_topic(self) -> str:
        return self.topic(config.ACCOUNTS_TOPIC)

    @cached_property
    def contacts_topic(self) -> str:
        return self.topic(config.CONTACTS_TOPIC)

    def projection_consumer(self):
        return self.consumer("projection", self.events_topic)

    def timeline_consumer(self):
        return self.consumer("timeline", self.events_topic)

    def stage_removals_consumer(self):
        return self.consumer("stage-removals", self.events_topic)

    def account_setup_consumer(self):
        return self.consumer("account-setup", self.accounts_topic)

    def contacts_consumer(self):
        return self.consumer("contacts", self.contacts_topic)

    def contacts_batch(self, codec: EventCodec) -> Callable[[list[EventEnvelope]], contextlib.AbstractContextManager]:
        """The contacts consumer's batch context (recording_new_contacts)."""
        return recording_new_contacts(self.contacts_directory, codec)

    def ensure_indexes(self) -> None:
        super().ensure_indexes()
        self.boards_projection.ensure_indexes()
        self.cards_projection.ensure_indexes()
        self.tasks_projection.ensure_indexes()
        self.task_reminders_projection.ensure_indexes()
        self.mail_outbox().ensure_indexes()
        self.contacts_directory.ensure_indexes()
        self.timeline.ensure_indexes()


def recording_new_contacts(directory: MongoContactsDirectory, codec: EventCodec
                           ) -> Callable[[list[EventEnvelope]], contextlib.AbstractContextManager]:
    """A batch context for a consumer of contacts' facts: the batch's new contacts recorded in the directory at once
    (recording_created). An event that does not decode is left to the one-by-one path, which dead-letters it."""
    def recording(envelopes: list[EventEnvelope]) -> contextlib.AbstractContextManager:
        created = []
        for envelope in envelopes:
            if envelope.event_type != ContactCreatedFact.event_type():
                continue
            try:
                fact = codec.from_envelope(envelope)
            except Exception as exc:  # noqa: BLE001 - the one-by-one path retries and dead-letters it
                if is_transient(exc):
                    raise
                continue
            created.append((fact.account_id, fact.contact_id))
        return directory.recording_created(created)
    return recording
