"""What the contacts service publishes conforms to its contract in crm_platform.contracts."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

import pytest

from crm_platform.blobs import BlobStore
from crm_platform.contracts.contacts import CONTACTS_EVENTS
from crm_platform.contracts.privacy import (
    PRIVACY_REPLY_CLASSES, PRIVACY_REQUEST_AGGREGATE_TYPE, SUBJECT_REQUEST_CLASSES, ErasureRequested,
    ProcessingRestrictionApplied, SubjectExportRequested,
)
from crm_platform.event_codec import EventCodec
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.privacy_exchange import ExportExchange
from crm_platform.privacy_participation import PrivacyRequestHandler
from crm_platform.testing.in_memory_collection import InMemoryCollection
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions
from crm_platform.testing.in_memory_identity_claims import InMemoryIdentityClaims
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from contacts import views
from contacts.adapters.attachment_files import AttachmentFiles
from contacts.domain import commands as c
from contacts.service_layer import dispatch
from contacts.service_layer.privacy import ContactsPrivacyParticipant
from contacts.service_layer.unit_of_work import UnitOfWork

from tests.fake_mailer import FakeMailer

PDF = b"%PDF-1.7\n" + b"x" * 300


@pytest.fixture
def published():
    """Every event type the service can record, stored by its real handlers."""
    store, cipher = InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore())
    files = AttachmentFiles(BlobStore(InMemoryCollection(), InMemoryCollection()), cipher)
    claims = InMemoryIdentityClaims()
    notes_of: dict[str, list[str]] = {}  # what the notes read model would answer
    bus = MessageBus.build(dispatch.COMMAND_HANDLERS, {}, {
        "uow": Fresh(lambda: UnitOfWork(store, cipher, claims, files)),
        "find_by_name": lambda account, name: None, "notes_of": lambda account, contact: notes_of.get(contact, []),
        "notes_shown": lambda account, contact: [],
        "imports": None, "uploads": None, "jobs": None, "mailer": FakeMailer(),  # no import in this scenario
        "attachment_ids_of": lambda account, contact: [attachment.id] if contact == b.id else []})
    a = bus.handle(c.CreateContact("acct-1", {"first_name": "Anne", "emails": [{"address": "anne@example.fr"}],
                                              "custom_fields": {}}))
    b = bus.handle(c.CreateContact("acct-1", {"company": "B & fils", "phones": [{"number": "+33 6 11 22 33 44"}]}))
    bus.handle(c.UpdateContact("acct-1", a.id, a.revision, {"last_name": "Martin"}))
    bus.handle(c.CreateLabel("acct-1", "VIP"))
    bus.handle(c.RenameLabel("acct-1", "vip", "Très important"))
    bus.handle(c.AssignLabel("acct-1", b.id, "vip"))
    bus.handle(c.UnassignLabel("acct-1", b.id, "vip"))
    bus.handle(c.ReorderLabels("acct-1", ["vip"]))
    bus.handle(c.DeleteLabel("acct-1", "vip"))
    bus.handle(c.AddCustomField("acct-1", "Budget", "number"))
    bus.handle(c.RenameCustomField("acct-1", "budget", "Budget annuel"))
    bus.handle(c.RemoveCustomField("acct-1", "budget"))
    bus.handle(c.AddOption("acct-1", "departments", "Logistique inversée"))
    bus.handle(c.RenameOption("acct-1", "departments", "logistique-inversee", "Retours"))
    option_list = bus.handle(c.AddOption("acct-1", "functions", "Gérant"))[0]
    bus.handle(c.ReorderOptions("acct-1", "functions", list(reversed(list(option_list.options)))))
    bus.handle(c.RemoveOption("acct-1", "functions", "gerant"))
    bus.handle(c.SetPhoneRegion("acct-1", "BE"))
    note = bus.handle(c.AddNote("acct-1", b.id, "note", "Rappeler lundi"))
    bus.handle(c.EditNote("acct-1", b.id, note.id, note.revision, text="Rappelé"))
    bus.handle(c.DeleteNote("acct-1", b.id, note.id))
    attachment = bus.handle(c.AddAttachment("acct-1", b.id, "devis.pdf", "application/pdf", PDF, 10**6))
    dropped = bus.handle(c.AddAttachment("acct-1", a.id, "vieux.pdf", "application/pdf", PDF, 10**6))
    bus.handle(c.DeleteAttachment("acct-1", a.id, dropped.id))
    view = bus.handle(c.CreateSavedView("acct-1", "Clients", {"label": "client", "cf.budget.gt": "10"}))
    bus.handle(c.ChangeSavedView("acct-1", view.id, name="Mes clients"))
    bus.handle(c.DeleteSavedView("acct-1", view.id))
    sent = bus.handle(c.SendMessage("acct-1", a.id, "Votre devis", "Bonjour"))
    bus.handle(c.RecordMessageOutcome("acct-1", a.id, sent.id, "sent", None, 1, datetime.now(timezone.utc)))
    bounced = bus.handle(c.SendMessage("acct-1", a.id, "Offre", "Bonjour", marketing=True))
    bus.handle(c.RecordMessageOutcome("acct-1", a.id, bounced.id, "failed", "rejected", 1, datetime.now(timezone.utc)))
    notes_of[b.id] = [bus.handle(c.AddNote("acct-1", b.id, "note", "Suit la fusion")).id]
    bus.handle(c.MergeContacts("acct-1", a.id, [b.id]))
    # the privacy service's requests, answered: the replies are published on contacts.events too
    participant = ContactsPrivacyParticipant(
        uow_factory=lambda: UnitOfWork(store, cipher, claims, files), bus=bus, notes_of=lambda account, contact: [],
        attachment_ids_of=lambda account, contact: [],
        history_of=partial(views.history_entries, UnitOfWork.event_codec(cipher)), files=files,
        forget_imports=lambda account, mentions, request_event: [], import_retention_days=7,
        messages_of=lambda account, contact: [])
    exchange = ExportExchange(BlobStore(InMemoryCollection(), InMemoryCollection()), cipher)
    privacy = PrivacyRequestHandler("contacts", participant, store, exchange,
                                    restrictions=InMemoryProcessingRestrictions())
    requests = EventCodec(SUBJECT_REQUEST_CLASSES)
    for request in (SubjectExportRequested("r1", "acct-1", [a.id], ["contacts"], "2026-12-02T12:00:00+00:00"),
                    ErasureRequested("r2", "acct-1", [b.id], ["contacts"], "2026-12-02T12:00:01+00:00"),
                    ProcessingRestrictionApplied("r3", "acct-1", [a.id], ["contacts"], "2026-12-02T12:00:02+00:00")):
        privacy.handle(requests.to_envelope(request, PRIVACY_REQUEST_AGGREGATE_TYPE, request.request_id, 1, "acct-1"))
    bus.handle(c.EraseContact("acct-1", a.id))
    return store.all_events


def test_every_event_the_service_stores_is_in_its_contract_and_conforms(published):
    assert {envelope.event_type for envelope in published} == CONTACTS_EVENTS.event_names
    for envelope in published:
        contract = CONTACTS_EVENTS.contract(envelope.event_type)
        assert envelope.schema_version == contract.version
        assert contract.validate(envelope.payload) == {}, envelope.event_type


def test_the_codec_knows_exactly_the_contracts_event_types():
    codec, replies = UnitOfWork.event_codec(), EventCodec(PRIVACY_REPLY_CLASSES)  # replies: privacy_participation's
    assert all(codec.knows(name) or replies.knows(name) for name in CONTACTS_EVENTS.event_names)
    recorded = [*UnitOfWork.aggregates_event_classes(), *PRIVACY_REPLY_CLASSES]
    assert {cls.event_type() for cls in recorded} == CONTACTS_EVENTS.event_names


def test_a_contacts_life_decodes_into_the_contracts_typed_events():
    """Other services (billing's customers) decode these with the contract's classes, not the service's."""
    from crm_platform.contracts.contacts import CONTACT_LIFECYCLE_CLASSES, ContactDeleted, ContactsMerged, ContactUpdated
    from crm_platform.event_codec import EventCodec

    store, cipher = InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore())
    bus = MessageBus.build(dispatch.COMMAND_HANDLERS, {}, {
        "uow": Fresh(lambda: UnitOfWork(store, cipher, InMemoryIdentityClaims(), None)),
        "find_by_name": lambda account, name: None, "notes_of": lambda account, contact: [],
        "notes_shown": lambda account, contact: [], "imports": None, "uploads": None, "jobs": None, "mailer": FakeMailer(), "attachment_ids_of": lambda account, contact: []})
    a = bus.handle(c.CreateContact("acct-1", {"first_name": "Anne", "company": "Dupont SA", "vat_number": "FR40303265045",
                                              "emails": [{"address": "anne@example.fr"}], "phones": [{"number": "+33 6 11 22 33 44"}],
                                              "addresses": [{"tag": "billing", "city": "Lille", "country": "FR"}]}))
    b = bus.handle(c.CreateContact("acct-1", {"company": "B & fils"}))
    bus.handle(c.UpdateContact("acct-1", a.id, a.revision, {"last_name": "Martin"}))
    bus.handle(c.MergeContacts("acct-1", a.id, [b.id]))
    codec = EventCodec(CONTACT_LIFECYCLE_CLASSES, cipher)
    events = [codec.from_envelope(envelope) for envelope in store.all_events if codec.knows(envelope.event_type)]
    updated = next(e for e in events if isinstance(e, ContactUpdated))
    assert updated.contact_id == a.id and updated.details["last_name"] == "Martin"
    assert updated.details["vat_number"] == "FR40303265045" and updated.details["addresses"][0]["city"] == "Lille"
    assert "phones" not in updated.details  # what the contract does not name is not opened into the event
    merged = next(e for e in events if isinstance(e, ContactsMerged))
    assert merged.source_ids == [b.id]
    assert any(isinstance(e, ContactDeleted) and e.contact_id == b.id and e.merged_into == a.id for e in events)

    # Workflows reads the same envelopes as facts, with no key at all, even once the contact is erased.
    from crm_platform.contracts.contacts import (CONTACT_FACT_CLASSES, ContactCreatedFact, ContactDeletedFact,
                                                 ContactErasedFact, ContactsMergedFact)
    bus.handle(c.EraseContact("acct-1", a.id))
    facts_codec = EventCodec(CONTACT_FACT_CLASSES)
    facts = [facts_codec.from_envelope(envelope) for envelope in store.all_events if facts_codec.knows(envelope.event_type)]
    assert [f.contact_id for f in facts if isinstance(f, ContactCreatedFact)] == [a.id, b.id]
    assert [(f.contact_id, f.source_ids) for f in facts if isinstance(f, ContactsMergedFact)] == [(a.id, [b.id])]
    assert [(f.contact_id, f.merged_into) for f in facts if isinstance(f, ContactDeletedFact)] == [(b.id, a.id)]
    # erasing a contact erases the contacts merged into it too
    assert sorted(f.contact_id for f in facts if isinstance(f, ContactErasedFact)) == sorted([a.id, b.id])
