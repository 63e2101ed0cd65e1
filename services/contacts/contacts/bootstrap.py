"""The only place that builds real adapters for the contacts service (lazily, per process)."""
from __future__ import annotations

import contextlib
from datetime import timedelta
from functools import cached_property, partial

from crm_platform.blobs import BlobStore
from crm_platform.identity_claims import KeyedIdentityClaims, MongoIdentityClaims
from crm_platform.jobs import JobStore
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.projection_batches import ReadModels
from crm_platform.service_container import ServiceContainer
from crm_platform.timeline import TimelineProjection

from contacts import config, views
from contacts.adapters.attachment_files import AttachmentFiles
from contacts.adapters.attachments_projection import AttachmentsProjection
from contacts.adapters.contacts_projection import ContactsProjection
from contacts.adapters.custom_fields_projection import CustomFieldsProjection
from contacts.adapters.identity_claims import CLAIMS_SECRET, OWNER_FIELD
from contacts.adapters.import_store import ImportStore
from contacts.adapters.labels_projection import LabelOrderProjection, LabelsProjection
from contacts.adapters.message_mail import MessageMail, MessageOutcomes
from contacts.adapters.messages_projection import MessagesProjection
from contacts.adapters.notes_projection import NotesProjection
from contacts.adapters.option_lists_projection import OptionListsProjection
from contacts.adapters.saved_views_projection import SavedViewsProjection
from contacts.adapters.timeline_projection import ContactTimelineProjection
from contacts.adapters.upload_files import UploadFiles
from contacts.domain.events import data_subject
from contacts.service_layer import dispatch, message_requeue
from contacts.service_layer.bulk_create import ROW_IDS_SECRET
from contacts.service_layer.import_handlers import ImportBatches
from contacts.service_layer.import_erasure import forget_imports_mentioning
from contacts.service_layer.privacy import ContactsPrivacyParticipant
from contacts.service_layer.unit_of_work import UnitOfWork


class Container(ServiceContainer):
    service_name = config.SERVICE_NAME
    database_setting = "CONTACTS_DB"
    events_topic_name = config.EVENTS_TOPIC
    unit_of_work_class = UnitOfWork
    # an account's secrets for its claims and its import rows' ids: read on every creation, never shredded
    lasting_secrets = (CLAIMS_SECRET.split("{", 1)[0], ROW_IDS_SECRET.split("{", 1)[0])

    @property
    def projection(self) -> ContactsProjection:
        return ContactsProjection(self.db["contacts"], self.codec)

    @property
    def labels_projection(self) -> LabelsProjection:
        return LabelsProjection(self.db["labels"], self.codec)

    @property
    def custom_fields_projection(self) -> CustomFieldsProjection:
        return CustomFieldsProjection(self.db["custom_fields"], self.codec)

    @property
    def notes_projection(self) -> NotesProjection:
        return NotesProjection(self.db["notes"], self.codec, self.db["contacts"])

    @property
    def attachments_projection(self) -> AttachmentsProjection:
        return AttachmentsProjection(self.db["attachments"], self.codec, self.db["contacts"])

    @property
    def attachment_files(self) -> AttachmentFiles:
        return AttachmentFiles(BlobStore.in_database(self.db, "attachment_blobs"), self.cipher)

    @property
    def saved_views_projection(self) -> SavedViewsProjection:
        return SavedViewsProjection(self.db["saved_views"], self.codec)

    @property
    def label_order_projection(self) -> LabelOrderProjection:
        return LabelOrderProjection(self.db["label_orders"], self.codec)

    @property
    def option_lists_projection(self) -> OptionListsProjection:
        return OptionListsProjection(self.db["option_lists"], self.codec)

    @property
    def messages_projection(self) -> MessagesProjection:
        return MessagesProjection(self.db["messages"], self.codec, self.db["contacts"])

    @property
    def timeline_projection(self) -> ContactTimelineProjection:
        return ContactTimelineProjection(self.db["timeline"], self.codec, self.erased_contacts,
                                         survivor=self.projection.survivor)

    def erased_contacts(self, account_id: str, contact_ids: list[str]) -> set[str]:
        """Those of these contacts that were erased: their key, `contact:<id>`, is shredded (the erasure does it
        before it forgets their timeline, so a write that asks afterwards sees it)."""
        erased = self.cipher.erased_among([data_subject(contact_id) for contact_id in contact_ids])
        return {contact_id for contact_id in contact_ids if data_subject(contact_id) in erased}

    @property
    def timeline(self) -> TimelineProjection:
        """The contact's timeline entries this service serves (crm_platform.timeline_api)."""
        return self.timeline_projection.timeline

    def message_mail(self) -> MessageMail:
        """Messages to contacts as mails of this service's outbox (the kernel's crm_platform.mail)."""
        return MessageMail(self.mail_outbox())

    def message_requeue_loop(self):
        """The worker's sweep handing the outbox the messages it never got (message_requeue.py)."""
        return message_requeue.requeue_loop(self.bus, partial(views.queued_messages_before, self.db["messages"]))

    def message_outcomes(self) -> MessageOutcomes:
        """What the mail loop (the worker's) does with each outcome: record it on its message."""
        return MessageOutcomes(self.bus)

    def read_models(self) -> list:
        return [self.projection, self.labels_projection, self.custom_fields_projection, self.notes_projection,
                self.saved_views_projection, self.option_lists_projection, self.label_order_projection,
                self.attachments_projection, self.messages_projection, self.timeline_projection]

    @cached_property
    def _consumer_read_models(self) -> ReadModels:
        # built once: the projection consumer calls apply_to_projections for every event
        return ReadModels(self.read_models())

    @contextlib.contextmanager
    def projection_batch(self, envelopes: list):
        """Around a polled batch of events: their personal-data keys read at once, and the contacts read model
        (it folds its events) given the whole batch in a few statements. The events are then handled one by
        one for the other read models (labels, notes, files...: a few events of an import, if any) and for
        what the bulk write left out."""
        subjects = [e.payload["personal"]["subject"] for e in envelopes
                    if isinstance(e.payload.get("personal"), dict) and e.payload["personal"].get("subject")]
        with self.cipher.keys_ready(subjects), self._consumer_read_models.batch(envelopes):
            yield

    def apply_to_projections(self, envelope, rebuilding: bool = False) -> None:
        """Give one event to every read model that did not take it with its batch."""
        self._consumer_read_models.apply(envelope, rebuilding=rebuilding)

    @cached_property
    def bus(self) -> MessageBus:
        """Commands to their handler, events to theirs, with the handlers' dependencies injected once."""
        contacts = self.db["contacts"]
        dependencies = {
            "uow": Fresh(self.unit_of_work),
            "default_labels": config.DEFAULT_LABELS,
            "find_by_name": self._label_key_by_name,
            "contacts_with_label": partial(views.contact_ids_with_label, contacts),
            "contacts_with_value": partial(views.contact_ids_with_custom_value, contacts),
            "contacts_using": partial(views.contact_ids_using_option, contacts),
            "notes_of": partial(views.note_ids_of, self.db["notes"]),
            "notes_shown": partial(views.notes_of_contact, self.db["notes"]),
            "attachment_ids_of": partial(views.attachment_ids_of, self.db["attachments"]),
            "imports": self.imports, "uploads": self.uploads, "jobs": self.jobs,
            "restrictions": self.processing_restrictions(),
            "mailer": Fresh(self.message_mail),
            "forget_timeline": self.timeline.forget_contact,
        }
        return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS, dependencies)

    @cached_property
    def _label_key_by_name(self):
        """The read-model port (account id, name) -> key of a live label, for handlers and the import step."""
        return partial(views.label_key_by_name, self.db["labels"])

    def import_batches(self) -> ImportBatches:
        """The job step of imports (it keeps the files it works on open at their next batch)."""
        contacts = self.db["contacts"]
        return ImportBatches(self.imports, self.uploads, self.unit_of_work,
                             self._label_key_by_name, self.settings["DEFAULT_PHONE_REGION"],
                             partial(views.deleted_contact_ids, contacts), partial(views.contact_has_note, self.db["notes"]),
                             restrictions=self.processing_restrictions())

    def cleanup_consumer(self):
        return self._events_consumer("cleanup")

    @cached_property
    def accounts_topic(self) -> str:
        return self.topic(config.ACCOUNTS_TOPIC)

    def account_setup_consumer(self):
        return self._events_consumer("account-setup", self.accounts_topic)

    def privacy_participant(self) -> ContactsPrivacyParticipant:
        """What contacts exports and erases of a person (the kernel's privacy handler and loop use it)."""
        return ContactsPrivacyParticipant(
            uow_factory=self.unit_of_work, bus=self.bus, notes_of=partial(views.notes_of_contact, self.db["notes"]),
            attachment_ids_of=partial(views.attachment_ids_of, self.db["attachments"]),
            history_of=partial(views.history_entries, self.codec), files=self.attachment_files,
            forget_imports=partial(forget_imports_mentioning, self.imports, self.uploads),
            import_retention_days=self.settings["IMPORT_RETENTION_DAYS"],
            messages_of=partial(views.message_ids_of, self.db["messages"]))

    @property
    def imports(self) -> ImportStore:
        return ImportStore(self.db["imports"], self.db["import_failures"], self.cipher,
                           timedelta(days=self.settings["IMPORT_RETENTION_DAYS"]))

    @property
    def uploads(self) -> UploadFiles:
        """Files uploaded for import, sealed per import (contacts' own files are attachment blobs, sealed per contact)."""
        return UploadFiles(BlobStore.in_database(self.db, "uploads"), self.cipher)

    @property
    def jobs(self) -> JobStore:
        return JobStore(self.db["jobs"])

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.event_store, self.cipher, self.identity_claims(), self.attachment_files)

    def identity_claims(self) -> KeyedIdentityClaims:
        """Claims under a keyed hash of the email or phone (each account's secret read once per process: it is one
        of the cipher's lasting secrets)."""
        return KeyedIdentityClaims(MongoIdentityClaims(self.db["identity_claims"], OWNER_FIELD),
                                   lambda account_id: self.cipher.secret(CLAIMS_SECRET.format(account_id=account_id)))

    def projection_consumer(self):
        return self._events_consumer("projection")

    def _events_consumer(self, purpose: str, topic: str | None = None):
        """A consumer in a group of its own per purpose (each group reads every event of the topic)."""
        return self.consumer(purpose, topic or self.events_topic)

    def ensure_indexes(self) -> None:
        super().ensure_indexes()
        self.imports.ensure_indexes()
        for read_model in self.read_models():
            read_model.ensure_indexes()
        self.jobs.ensure_indexes()
