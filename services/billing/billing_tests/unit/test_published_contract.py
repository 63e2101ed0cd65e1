"""What billing publishes is its contract, personal data sealed: every event its real handlers record,
through the real bus and the service's own unit of work (settings as the account's defaults), on fakes."""
from datetime import date

import pytest

from crm_platform.contracts.billing import BILLING_EVENTS
from crm_platform.contracts.privacy import (PRIVACY_REPLY_CLASSES, PRIVACY_REQUEST_AGGREGATE_TYPE,
                                            SUBJECT_REQUEST_CLASSES, ErasureRequested, ProcessingRestrictionApplied,
                                            SubjectExportRequested)
from crm_platform.event_codec import EventCodec
from crm_platform.message_bus import Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.privacy_participation import PrivacyRequestHandler
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from billing.adapters.document_parties import PARTY_EVENTS, party_entries
from billing.domain import commands as c
from billing.domain import quote_commands as q
from billing.domain import recurring_commands as r
from billing.domain import send_commands as s
from billing.domain.credit_notes import CreditNote
from billing.domain.number_series import GaplessNumberSeries
from billing.domain.settings import ChangeBillingSettings
from billing.service_layer import dispatch, retention
from billing.service_layer.privacy import BillingPrivacyParticipant
from billing.service_layer.unit_of_work import UnitOfWork

from .fakes import FakeCustomers, InMemoryReservationLedger, clock_at
from .privacy_fakes import KeptParts, ScannedPersonDocuments
from .test_recurring_scheduler import FakeLease

BUYER = {"name": "Louise Martin", "company": "Atelier Martin", "vat_number": "FR40303265045",
         "address": {"city": "Lyon", "country": "FR"}, "emails": ["louise@atelier-martin.fr"]}
LINE = {"description": "Développement", "quantity": "2", "unit": "jour", "unit_price": "450.00",
        "taxes": [{"category": "S", "rate": "20"}]}


@pytest.fixture
def published():
    store, cipher = InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore())
    series, customers = GaplessNumberSeries(InMemoryReservationLedger()), FakeCustomers()
    customers.put("acct-1", "contact:1", BUYER)
    bus = MessageBus.build(dispatch.COMMAND_HANDLERS, dispatch.EVENT_HANDLERS,
                           {"uow": Fresh(lambda: UnitOfWork(store, cipher, series, customers)),
                            "clock": clock_at("2026-01-02T10:00")})
    bus.handle(ChangeBillingSettings("acct-1", 0, {"seller": {"name": "Agence Dupont", "siren": "732829320"}}))
    dropped = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (LINE,)))
    bus.handle(c.DeleteInvoiceDraft("acct-1", dropped.id))
    invoice = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (LINE,), notes="Merci Louise"))
    bus.handle(c.UpdateInvoiceDraft("acct-1", invoice.id, None, {"lines": [LINE, LINE]}))
    invoice = bus.handle(c.IssueInvoice("acct-1", invoice.id))
    bus.handle(s.SendInvoice("acct-1", invoice.id, "send-1", "fr", subject="Facture pour Louise"))
    bus.handle(s.RecordSendOutcome("acct-1", "invoice", invoice.id, "send-1", 0, "sent", None, 1, "2026-01-02T10:01"))
    bus.handle(s.SendInvoice("acct-1", invoice.id, "send-2", "en", ("louise@atelier-martin.fr", "louise@example.com")))
    bus.handle(s.RecordSendOutcome("acct-1", "invoice", invoice.id, "send-2", 1, "failed", "rejected", 1,
                                   "2026-01-02T10:02"))
    payment = bus.handle(c.RecordPayment("acct-1", invoice.id, "100", "2026-01-02", "card", "CB Louise Martin"))
    bus.handle(c.RemovePayment("acct-1", invoice.id, list(payment.payments)[0], "saisie en double de Louise"))
    note = bus.handle(c.IssueCreditNote("acct-1", invoice.id, "remise accordée à Louise", [{**LINE, "quantity": "1"}]))
    bus.handle(s.SendCreditNote("acct-1", note.id, "send-4", "fr", ("louise@atelier-martin.fr", "l@example.com")))
    bus.handle(s.RecordSendOutcome("acct-1", "credit_note", note.id, "send-4", 0, "sent", None, 1, "2026-01-02T10:04"))
    bus.handle(s.RecordSendOutcome("acct-1", "credit_note", note.id, "send-4", 1, "failed", "rejected", 1,
                                   "2026-01-02T10:05"))
    bus.handle(c.RecordPayment("acct-1", invoice.id, str(bus.handle(c.IssueInvoice("acct-1", invoice.id)).amount_due),
                               "2026-01-02", "bank_transfer"))
    other = bus.handle(c.IssueInvoice("acct-1", bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (LINE,))).id))
    with UnitOfWork(store, cipher, series, customers) as uow:  # a credit note started, then the process died
        started = CreditNote.start(uow.invoices.get("acct-1", other.id), None, "annulation pour Louise",
                                   date(2026, 1, 3), {"name": "Agence Dupont"}, "AV-{YYYY}-{SEQ:4}")
        uow.credit_notes.add(started)
        uow.commit()
    bus.handle(c.VoidInvoice("acct-1", other.id, "erreur de Louise"))
    bus.handle(c.FinishCreditNote("acct-1", started.id))  # the invoice is void now: the credit note is abandoned
    dropped = bus.handle(q.CreateQuoteDraft("acct-1", "contact:1", (LINE,)))
    bus.handle(q.DeleteQuoteDraft("acct-1", dropped.id))
    quote = bus.handle(q.CreateQuoteDraft("acct-1", "contact:1", (LINE,), notes="Pour Louise"))
    bus.handle(q.UpdateQuoteDraft("acct-1", quote.id, None, {"lines": [LINE, LINE]}))
    bus.handle(q.SendQuote("acct-1", quote.id))
    bus.handle(s.MailQuote("acct-1", quote.id, "send-3", "fr", ("louise@atelier-martin.fr", "l@example.com")))
    bus.handle(s.RecordSendOutcome("acct-1", "quote", quote.id, "send-3", 0, "sent", None, 1, "2026-01-02T10:03"))
    bus.handle(s.RecordSendOutcome("acct-1", "quote", quote.id, "send-3", 1, "failed", "undeliverable", 8,
                                   "2026-01-02T11:03"))
    bus.handle(q.AcceptQuote("acct-1", quote.id))
    bus.handle(q.ConvertQuote("acct-1", quote.id))
    declined = bus.handle(q.SendQuote("acct-1", bus.handle(q.CreateQuoteDraft("acct-1", "contact:1", (LINE,))).id))
    bus.handle(q.DeclineQuote("acct-1", declined.id, "Louise a choisi un autre prestataire"))
    recurring = bus.handle(r.CreateRecurringInvoice("acct-1", "contact:1", {"anchor": "2026-01-01", "every": 1,
                                                                            "unit": "month"}, "issue", (LINE,),
                                                    notes="Louise paie par virement"))
    bus.handle(r.GenerateDueInvoices("acct-1", recurring.id))
    bus.handle(r.EditRecurringInvoice("acct-1", recurring.id, None, {"notes": "Louise, 2e étage"}))
    bus.handle(r.PauseRecurringInvoice("acct-1", recurring.id))
    bus.handle(r.ResumeRecurringInvoice("acct-1", recurring.id))
    bus.handle(r.CancelRecurringInvoice("acct-1", recurring.id))
    # a draft moved to another contact, then issued; a quote drafted for a contact merged since, then sent (frozen
    # for the survivor): the events after those name another contact than the document's creation did
    customers.put("acct-1", "contact:2", {**BUYER, "name": "Paul Martin"})
    customers.put("acct-1", "contact:3", {**BUYER, "name": "Louise M."})
    moved = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (LINE,)))
    bus.handle(c.UpdateInvoiceDraft("acct-1", moved.id, None, {"contact_id": "contact:2"}))
    moved = bus.handle(c.IssueInvoice("acct-1", moved.id))
    bus.handle(c.RecordPayment("acct-1", moved.id, "10", "2026-01-02", "card"))
    merged = bus.handle(q.CreateQuoteDraft("acct-1", "contact:3", (LINE,)))
    customers.merge("acct-1", "contact:3", "contact:1")
    bus.handle(q.SendQuote("acct-1", merged.id))
    bus.handle(q.DeclineQuote("acct-1", merged.id, "plus tard"))
    answer_privacy_requests(store, cipher, series, customers)
    return store.all_events


def answer_privacy_requests(store, cipher, series, customers) -> None:
    """Louise's restriction and export, then her erasure (documents deleted, issued ones restricted), then the
    end of their retention: what billing records and publishes for privacy (issue 13)."""
    def unit_of_work():
        return UnitOfWork(store, cipher, series, customers)

    participant = BillingPrivacyParticipant(unit_of_work, ScannedPersonDocuments(store, customers), cipher,
                                            clock_at("2026-01-03T10:00"))
    handler = PrivacyRequestHandler("billing", participant, store, KeptParts(),
                                    restrictions=InMemoryProcessingRestrictions())
    requests = EventCodec(SUBJECT_REQUEST_CLASSES)
    for number, request_class in enumerate((ProcessingRestrictionApplied, SubjectExportRequested, ErasureRequested),
                                           start=1):
        request = request_class(f"request:{number}", "acct-1", ["contact:1"], ["billing"], "2026-01-03T10:00:00Z")
        handler.handle(requests.to_envelope(request, PRIVACY_REQUEST_AGGREGATE_TYPE, request.request_id, 1, "acct-1"))

    def expired(day):
        return [("acct-1", invoice_id) for invoice_id in store.heads_of_type("acct-1", "Invoice")]

    assert retention.end_expired_retentions(expired, FakeLease(), unit_of_work, store, unit_of_work().codec, cipher,
                                            clock_at("2037-01-02T10:00")) > 0


def test_every_event_billing_records_is_in_its_contract_and_conforms(published):
    assert {envelope.event_type for envelope in published} == BILLING_EVENTS.event_names
    for envelope in published:
        contract = BILLING_EVENTS.contract(envelope.event_type)
        assert envelope.schema_version == contract.version
        assert contract.validate(envelope.payload) == {}, envelope.event_type


def test_personal_data_travels_sealed_under_its_documents_key(published):
    for envelope in published:
        assert "Louise" not in str(envelope.payload) and "atelier-martin" not in str(envelope.payload), envelope.event_type
        if "personal" in envelope.payload and envelope.aggregate_type != "BillingSettings":
            invoice_id = envelope.payload.get("invoice_id", envelope.aggregate_id)  # a credit note's: its invoice's
            if envelope.aggregate_type in ("Quote", "RecurringInvoice"):  # a document of its own
                invoice_id = envelope.aggregate_id
            assert envelope.payload["personal"]["subject"] == f"billing-document:{invoice_id}"


def test_the_codec_knows_exactly_the_contracts_event_types():
    replies = {cls.event_type() for cls in PRIVACY_REPLY_CLASSES}  # recorded by the kernel's privacy handler
    assert {cls.event_type() for cls in UnitOfWork.aggregates_event_classes()} == BILLING_EVENTS.event_names - replies


def test_every_contact_a_document_s_events_name_is_noted_from_its_party_events(published):
    """Billing's event store notes parties from PARTY_EVENTS only (adapters/document_parties.py): every (document,
    contact) any event of every kind names is among them, and most commits need no entry."""
    documents = {"Invoice", "CreditNote", "Quote", "RecurringInvoice"}
    named = {(envelope.aggregate_id, envelope.payload["contact_id"]) for envelope in published
             if envelope.aggregate_type in documents and envelope.payload.get("contact_id")}
    assert {(entry["document_id"], entry["party"]) for entry in party_entries(published)} == named
    looked_at = [envelope for envelope in published if envelope.event_type in PARTY_EVENTS]
    assert len(looked_at) < len([envelope for envelope in published if envelope.aggregate_type in documents]) / 2
