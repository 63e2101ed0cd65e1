"""The only place that builds real adapters for the billing service (lazily, per process)."""
from __future__ import annotations

import contextlib
from functools import cached_property

from crm_platform.blobs import BlobStore
from crm_platform.contracts.contacts import CONTACT_LIFECYCLE_CLASSES, ContactDeleted, ContactErased
from crm_platform.event_codec import EventCodec
from crm_platform.event_store import MongoEventStore
from crm_platform.leases import Lease
from crm_platform.mail import MailOutcome
from crm_platform.message_bus import EventsToBus, Fresh, MessageBus
from crm_platform.personal_data import SubjectErased
from crm_platform.projection_batches import ReadModels
from crm_platform.service_container import ServiceContainer
from crm_platform.timeline import TimelineProjection
from crm_platform.timeline_follower import TimelineFollower

from billing import config, document_views, views
from billing.adapters.customer_directory import MongoCustomerDirectory
from billing.adapters.customers_projection import CustomersProjection
from billing.adapters.document_parties import PartyNotingEventStore
from billing.adapters.document_pdfs import KeptPdfs
from billing.adapters.cross_industry_invoice import e_invoice_xml
from billing.adapters.document_rendering import render_pdf
from billing.adapters.render_process import OutOfProcessRenderer
from billing.adapters.retry_backoff import RetryBackoff
from billing.adapters.documents_projection import CreditNotesProjection, InvoicesProjection
from billing.adapters.number_series import MongoReservationLedger
from billing.adapters.person_documents import MongoPersonDocuments
from billing.adapters.quotes_projection import QuotesProjection, RecurringInvoicesProjection
from billing.domain.account_defaults import utc_now
from billing.domain.number_series import GaplessNumberSeries
from billing.service_layer import dispatch, printing, retention, sending
from billing.service_layer.contact_merges import move_merged_contact_timeline
from billing.service_layer.privacy import BillingPrivacyParticipant
from billing.service_layer.timeline_entries import ENTRY_EVENTS, timeline_entries
from billing.service_layer.unit_of_work import UnitOfWork


_SEND_REQUEST_TYPES = frozenset(requested.event_type() for requested in sending.SEND_REQUESTS)


class Container(ServiceContainer):
    service_name = config.SERVICE_NAME
    database_setting = "BILLING_DB"
    events_topic_name = config.EVENTS_TOPIC
    unit_of_work_class = UnitOfWork
    clock = staticmethod(utc_now)  # what "today" is, in each account's time zone

    @property
    def event_store(self) -> PartyNotingEventStore:
        """The kernel's store, noting whom each document is for before its commit (adapters/document_parties.py)."""
        return PartyNotingEventStore(MongoEventStore(self.db), self.db["document_parties"], self.db["backfills"])

    def note_document_parties(self, lease: Lease | None = None) -> int | None:
        """The backfill of the parties of the documents stored before billing's event store noted them, unless it has
        completed already (adapters/document_parties.py); only while holding `lease`, if one is given."""
        return self.event_store.note_stored_documents(lease)

    def document_parties_lease(self) -> Lease:
        """One backfill of the documents' parties for the whole system: the worker holding this lease."""
        return self.lease("document-parties")

    @cached_property
    def invoices(self) -> InvoicesProjection:
        return InvoicesProjection(self.db["invoices"], self.codec, self.event_store, self.cipher)

    @cached_property
    def credit_notes(self) -> CreditNotesProjection:
        return CreditNotesProjection(self.db["credit_notes"], self.codec, self.event_store, self.cipher)

    @cached_property
    def quotes(self) -> QuotesProjection:
        return QuotesProjection(self.db["quotes"], self.codec, self.event_store, self.cipher)

    @cached_property
    def recurring_invoices(self) -> RecurringInvoicesProjection:
        return RecurringInvoicesProjection(self.db["recurring_invoices"], self.codec, self.event_store, self.cipher)

    @cached_property
    def kept_pdfs(self) -> KeptPdfs:
        """The PDFs of final documents, rendered once, sealed with each document's key."""
        return KeptPdfs(self.db["document_pdfs"], BlobStore.in_database(self.db, "document_pdf_blobs"), self.cipher,
                        form_now=self._printed_form_now)

    def _printed_form_now(self, account_id: str, document) -> tuple[bool, bool] | None:
        """What a kept PDF just written is checked against (adapters/document_pdfs.py)."""
        return printing.form_now(account_id, document, self.unit_of_work())

    @cached_property
    def _document_read_models(self) -> ReadModels:
        return ReadModels([self.invoices, self.credit_notes, self.quotes, self.recurring_invoices])

    @contextlib.contextmanager
    def documents_batch(self, envelopes: list):
        """Around a polled batch of billing's own events: each document of the batch read and written once, in bulk
        (adapters/documents_projection.py), whatever the number of its events; `apply_to_documents` then skips them."""
        with self._document_read_models.batch(envelopes):
            yield

    def apply_to_documents(self, envelope, rebuilding: bool = False) -> None:
        """Give one of billing's own events to the invoices, credit notes, quotes and recurring invoices read models
        (unless its batch took it)."""
        self._document_read_models.apply(envelope, rebuilding=rebuilding)

    @cached_property
    def timeline(self) -> TimelineProjection:
        """Billing's entries of its contacts' timelines (issue 14), served by the timeline blueprint."""
        return TimelineProjection(self.db["timeline"])

    @cached_property
    def timeline_follower(self) -> TimelineFollower:
        """Billing's events to its contacts' timelines, and merges (an event naming a merged contact: its survivor)."""
        return TimelineFollower(self.timeline, self.codec, timeline_entries, self.customers.erased, ENTRY_EVENTS,
                                survivor=self.customers.survivor)

    def apply_to_timeline(self, envelope, rebuilding: bool = False) -> None:
        """Give one of billing's own events to its contacts' timelines (none for a contact erased here)."""
        self.timeline_follower.apply(envelope, rebuilding=rebuilding)

    def timeline_consumer(self):
        return self.consumer("timeline", self.events_topic)

    def interrupted_issues(self, since_before):
        """The read models' documents still issuing (quotes: sending) since before then (what the issue sweep
        finishes)."""
        return views.interrupted_issues(self.invoices.collection, self.credit_notes.collection,
                                        self.quotes.collection, since_before, self.clock())

    def due_recurring_invoices(self, day):
        """(account id, id) of the recurring invoices whose next occurrence is due by `day` (the scheduler's)."""
        return document_views.due_recurring_invoices(self.recurring_invoices.collection, day.isoformat(), self.clock())

    @property
    def retry_backoff(self) -> RetryBackoff:
        """Where the sweep and the scheduler record the documents they failed on (each kind: its read model)."""
        return RetryBackoff({"invoice": self.invoices.collection, "credit_note": self.credit_notes.collection,
                             "quote": self.quotes.collection, "recurring_invoice": self.recurring_invoices.collection})

    def sweep_lease(self) -> Lease:
        """One sweep of interrupted issues for the whole system: the worker holding this lease."""
        return self.lease("issue-sweep")

    def scheduler_lease(self) -> Lease:
        """One recurring-invoice scheduler for the whole system: the worker holding this lease."""
        return self.lease("recurring-scheduler")

    def retention_lease(self) -> Lease:
        """One retention job for the whole system: the worker holding this lease."""
        return self.lease("retention")

    def end_expired_retentions(self, lease: Lease) -> int:
        """One round of the retention job (service_layer/retention.py): the keys of invoices kept past their date
        shredded."""
        return retention.end_expired_retentions(
            lambda day: document_views.expired_retentions(self.invoices.collection, day.isoformat()), lease,
            self.unit_of_work, self.event_store, self.codec, self.cipher, self.clock)

    def privacy_participant(self) -> BillingPrivacyParticipant:
        index = MongoPersonDocuments(self.db["customers"], self.invoices.collection, self.credit_notes.collection,
                                     self.quotes.collection, self.recurring_invoices.collection, self.event_store)
        return BillingPrivacyParticipant(self.unit_of_work, index, self.cipher, self.clock, pdfs=self.kept_pdfs,
                                         render_pdf=render_pdf, e_invoice=e_invoice_xml, timeline=self.timeline)

    def documents_consumer(self):
        return self.consumer("documents", self.events_topic)

    def keep_printed(self, envelope, rebuilding: bool = False) -> None:
        """Keep the PDF of an invoice or credit note as it is issued or voided; delete those kept in a form it no
        longer prints in (service_layer/printing.py)."""
        printing.keep_printed(envelope.event_type, envelope.account_id, envelope.aggregate_id,
                              self.unit_of_work(), self.kept_pdfs, self.printing_renderer, e_invoice_xml)

    @cached_property
    def printing_renderer(self):
        """How the printing consumer renders: in a child process (its WeasyPrint CPU would otherwise hold the GIL the
        worker's other consumers need), unless BILLING_RENDER_IN_PROCESS. The API renders in its own process."""
        return render_pdf if self.settings["BILLING_RENDER_IN_PROCESS"] else OutOfProcessRenderer(
            log_as=f"{config.SERVICE_NAME}-worker-render", log_level=self.settings["LOG_LEVEL"])

    def close_printing_renderer(self) -> None:
        """The worker's shutdown: the render process stopped, if one was started."""
        renderer = self.__dict__.get("printing_renderer")
        if isinstance(renderer, OutOfProcessRenderer):
            renderer.close()

    def printing_consumer(self):
        return self.consumer("printing", self.events_topic)

    @cached_property
    def customers(self) -> CustomersProjection:
        """Billing's projection of the account's contacts, decoded with the contacts contract's classes."""
        return CustomersProjection(self.db["customers"], EventCodec(CONTACT_LIFECYCLE_CLASSES, self.cipher))

    @cached_property
    def _customer_read_models(self) -> ReadModels:
        return ReadModels([self.customers])

    @contextlib.contextmanager
    def customers_batch(self, envelopes: list):
        """Around a polled batch of contact events: their keys read at once, the customers written in bulk."""
        subjects = [e.payload["personal"]["subject"] for e in envelopes
                    if isinstance(e.payload.get("personal"), dict) and e.payload["personal"].get("subject")]
        with self.cipher.keys_ready(subjects), self._customer_read_models.batch(envelopes):
            self.customers.keep_erased(envelopes)  # what the bulk write brought back of an erased customer
            yield

    def apply_to_customers(self, envelope, rebuilding: bool = False) -> None:
        """Give one contact event to the customers read model (unless its batch took it); an erased contact's
        timeline entries forgotten (as billing's erasure of the person forgets them: service_layer/privacy.py), a
        merged one's moved to the survivor (issue 14)."""
        self._customer_read_models.apply(envelope, rebuilding=rebuilding)
        if envelope.event_type == ContactErased.event_type():
            self.timeline.forget_contact(envelope.account_id, envelope.aggregate_id)
        elif envelope.event_type == ContactDeleted.event_type():  # no personal field: decoded without a key
            move_merged_contact_timeline(self.customers.event_of(envelope), self.timeline_follower)

    def customers_consumer(self):
        return self.consumer("customers", self.contacts_topic)

    @property
    def reservation_ledger(self) -> MongoReservationLedger:
        return MongoReservationLedger(self.db["number_reservations"], self.db["number_hints"])

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.event_store, self.cipher, GaplessNumberSeries(self.reservation_ledger),
                          MongoCustomerDirectory(self.db["customers"]))

    @cached_property
    def bus(self) -> MessageBus:
        """Commands to their handler, events to theirs, with the handlers' dependencies injected once."""
        return MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS,
                                {"uow": Fresh(self.unit_of_work), "clock": self.clock,
                                 "restrictions": self.processing_restrictions()})

    @cached_property
    def mail_bus(self) -> MessageBus:
        """A recorded send's event to the handler queueing its mails (the worker's mail consumer)."""
        return MessageBus.build({}, dispatch.MAIL_EVENT_HANDLERS, {"uow": Fresh(self.unit_of_work),
                                                                   "mail_queue": Fresh(self.mail_outbox),
                                                                   "document_pdf": self.document_pdf,
                                                                   "e_invoice": e_invoice_xml})

    def document_pdf(self, account_id: str, document, lang: str) -> bytes:
        """The document's PDF exactly as `GET .../pdf` serves it (kept once final)."""
        return printing.pdf(account_id, document, lang, self.kept_pdfs, render_pdf)

    def mail_consumer(self):
        return self.consumer("mail", self.events_topic)

    def queue_mails(self, envelope) -> None:
        """The mail consumer's handler: a recorded send's mails queued in the outbox (idempotent by mail id)."""
        if envelope.event_type not in _SEND_REQUEST_TYPES:
            return
        try:
            self._sends_to_bus(envelope)
        except SubjectErased:  # the document's key was shredded: nothing to send any more
            return

    @cached_property
    def _sends_to_bus(self) -> EventsToBus:
        return EventsToBus(self.codec, self.mail_bus)

    def record_mail_outcome(self, outcome: MailOutcome) -> None:
        """The mail loop's `on_outcome`: a send's outcome recorded on its document (idempotent by mail id)."""
        command = sending.outcome_command(outcome)
        if command is not None:
            self.bus.handle(command)

    @cached_property
    def contacts_topic(self) -> str:
        return self.topic(config.CONTACTS_TOPIC)

    def ensure_indexes(self) -> None:
        super().ensure_indexes()
        self.customers.ensure_indexes()
        self.reservation_ledger.ensure_indexes()
        self.invoices.ensure_indexes()
        self.credit_notes.ensure_indexes()
        self.quotes.ensure_indexes()
        self.recurring_invoices.ensure_indexes()
        self.timeline.ensure_indexes()
