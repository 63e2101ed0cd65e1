"""Sending invoices by e-mail: the real handlers through the bus, on the in-memory event store, the real mail outbox
on an in-memory collection, and a fake PDF renderer."""
import pytest

from crm_platform.errors import Conflict, InvalidInput
from crm_platform.mail import MailOutcome
from crm_platform.message_bus import EventsToBus, Fresh, MessageBus
from crm_platform.personal_data import PersonalDataCipher
from crm_platform.testing.in_memory_event_store import InMemoryEventStore
from crm_platform.testing.in_memory_mail_outbox import in_memory_mail_outbox
from crm_platform.testing.in_memory_subject_keys import InMemorySubjectKeyStore

from billing.domain import commands
from billing.domain.document_mail import DocumentNotSendable
from billing.domain.number_series import GaplessNumberSeries
from billing.domain.send_commands import RecordSendOutcome, SendInvoice
from billing.domain.settings import ChangeBillingSettings
from billing.entrypoints.sending_api import SendSchema
from billing.service_layer import dispatch, sending
from billing.service_layer.unit_of_work import UnitOfWork

from .fakes import FakeCustomers, InMemoryReservationLedger, clock_at

BUYER = {"name": "Louise Martin", "company": "Atelier Martin", "emails": ["louise@atelier-martin.fr",
                                                                         "compta@atelier-martin.fr"]}
LINE = {"description": "Développement", "quantity": "2", "unit": "jour", "unit_price": "450.00",
        "taxes": [{"category": "S", "rate": "20"}]}
NOW = "2026-01-02T10:00"


class Billing:
    """The command bus and the worker's mail consumer, on one event store."""

    def __init__(self) -> None:
        self.store, self.cipher = InMemoryEventStore(), PersonalDataCipher(InMemorySubjectKeyStore())
        series, self.customers = GaplessNumberSeries(InMemoryReservationLedger()), FakeCustomers()
        self.customers.put("acct-1", "contact:1", BUYER)
        self.outbox = in_memory_mail_outbox(self.cipher)
        self.rendered: list[str] = []

        def unit_of_work():
            return UnitOfWork(self.store, self.cipher, series, self.customers)

        self.unit_of_work = unit_of_work

        self.bus = MessageBus.build(dispatch.COMMAND_HANDLERS, {}, {"uow": Fresh(unit_of_work),
                                                                    "clock": clock_at(NOW)})
        mail_bus = MessageBus.build({}, dispatch.MAIL_EVENT_HANDLERS, {
            "uow": Fresh(unit_of_work), "mail_queue": self.outbox, "document_pdf": self.pdf})
        self.consumer = EventsToBus(UnitOfWork.event_codec(self.cipher), mail_bus)

    def pdf(self, account_id, document, lang) -> bytes:
        self.rendered.append(document.number)
        return f"%PDF-1.7 {document.number} {lang}".encode()

    def issued_invoice(self):
        self.bus.handle(ChangeBillingSettings("acct-1", 0, {"seller": {"name": "Agence Dupont", "siren": "732829320"}}))
        draft = self.bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:1", (LINE,)))
        return self.bus.handle(commands.IssueInvoice("acct-1", draft.id))

    def deliver_events(self) -> None:
        """What the worker's mail consumer does with every event on billing.events (again, on a redelivery)."""
        for envelope in self.store.all_events:
            self.consumer(envelope)

    def mails(self) -> list:
        return [self.outbox.open(doc["_id"]) for doc in self.outbox.collection.documents.values() if "sealed" in doc]


@pytest.fixture
def billing():
    return Billing()


def test_an_issued_invoice_is_mailed_once_to_the_buyers_primary_address_with_its_pdf(billing):
    invoice = billing.issued_invoice()
    send = billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr"))
    assert send.status == "queued" and send.recipients == 1
    billing.deliver_events()
    billing.deliver_events()  # redelivered: the outbox refuses the mail id it holds
    [mail] = billing.mails()
    assert mail.to == "louise@atelier-martin.fr"  # the primary address, as billing's customers read model knows it
    assert mail.mail_id == f"invoice-send:{invoice.id}:send-1:0"
    assert mail.subject == f"Facture {invoice.number} - Agence Dupont"
    assert "900.00" in mail.text or "1080.00" in mail.text
    [attachment] = mail.attachments
    assert (attachment.filename, attachment.content_type) == (f"{invoice.number}.pdf", "application/pdf")
    assert attachment.data == f"%PDF-1.7 {invoice.number} fr".encode()
    assert mail.reference == {"kind": "invoice", "document_id": invoice.id, "send_id": "send-1", "recipient": 0}


def test_a_send_request_sent_again_with_its_id_records_and_mails_nothing_more(billing):
    invoice = billing.issued_invoice()
    billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr"))
    before = len(list(billing.store.all_events))
    billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr"))
    assert len(list(billing.store.all_events)) == before
    billing.deliver_events()
    assert len(billing.mails()) == 1


def test_a_draft_is_not_sent(billing):
    billing.issued_invoice()
    draft = billing.bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:1", (LINE,)))
    with pytest.raises(DocumentNotSendable) as refused:
        billing.bus.handle(SendInvoice("acct-1", draft.id, "send-1", "fr"))
    assert isinstance(refused.value, Conflict) and "only an issued invoice is sent" in str(refused.value)


def test_a_void_invoice_is_not_sent(billing):
    invoice = billing.issued_invoice()
    billing.bus.handle(commands.VoidInvoice("acct-1", invoice.id, "erreur"))
    with pytest.raises(DocumentNotSendable):
        billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr"))


def test_a_bounced_address_is_refused_naming_to_and_an_unsubscribed_one_is_not_asked_about(billing):
    invoice = billing.issued_invoice()
    billing.customers.put("acct-1", "contact:1", BUYER, bounced=("Louise@Atelier-Martin.fr",))
    with pytest.raises(InvalidInput) as refused:
        billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr"))
    assert refused.value.errors == {"to": {"0": ["this address has bounced: mail to it does not arrive"]}}
    with pytest.raises(InvalidInput) as refused:
        billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr", to=("x@example.com",
                                                                                 "louise@atelier-martin.fr")))
    assert list(refused.value.errors["to"]) == ["1"]
    send = billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr", to=("compta@atelier-martin.fr",)))
    assert send.recipients == 1


def test_a_refused_address_is_named_by_its_place_in_the_list_the_client_sent_whatever_was_repeated(billing):
    invoice = billing.issued_invoice()
    given = ("louise@atelier-martin.fr", "Louise@Atelier-Martin.fr", "Louise <compta@atelier-martin.fr>")
    with pytest.raises(InvalidInput) as refused:
        billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr", to=given))
    assert list(refused.value.errors["to"]) == ["2"]  # the third address sent, not the second left once repeated
    send = billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr", to=given[:2]))
    assert send.recipients == 1  # the same address twice: one mail


def test_no_address_at_all_is_refused_naming_to(billing):
    invoice = billing.issued_invoice()
    billing.customers.put("acct-1", "contact:1", {"name": "Louise Martin"})
    with pytest.raises(InvalidInput) as refused:
        billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr"))
    assert list(refused.value.errors) == ["to"]


@pytest.mark.parametrize("field, value, named", [
    ("to", ("Louise <louise@atelier-martin.fr>",), "to"),
    ("to", ("a@b.fr, c@d.fr",), "to"),
    ("subject", "Facture\r\nBcc: victim@example.com", "subject"),
    ("message", "bonjour\x1b[31m", "message"),
])
def test_what_could_break_the_mail_is_refused_naming_the_field(billing, field, value, named):
    invoice = billing.issued_invoice()
    with pytest.raises(InvalidInput) as refused:
        billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr", **{field: value}))
    assert list(refused.value.errors) == [named]
    assert not any(e.event_type == "InvoiceSendRequested" for e in billing.store.all_events)


def test_the_accounts_templates_fill_the_subject_and_message_in_the_language_asked(billing):
    invoice = billing.issued_invoice()
    billing.bus.handle(ChangeBillingSettings("acct-1", 1, {
        "email_subject_template": "{number} ({total}) de {seller}",
        "email_message_template": "Échéance {due_date}. {{pas un champ}}"}))
    billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "en"))
    billing.deliver_events()
    [mail] = billing.mails()
    assert mail.subject == f"{invoice.number} (1080.00 EUR) de Agence Dupont"
    assert mail.text == f"Échéance {invoice.due_on}. {{pas un champ}}"
    assert mail.attachments[0].data.endswith(b" en")


@pytest.mark.parametrize("template", ["{number.__class__}", "{number[0]}", "{total!r}", "{total:>99999}",
                                      "{customer}", "{}", "{0}", "unbalanced {"])
def test_a_template_reaching_anything_but_the_fixed_placeholders_is_refused_naming_it(billing, template):
    with pytest.raises(InvalidInput) as refused:
        billing.bus.handle(ChangeBillingSettings("acct-1", 0, {"email_subject_template": template}))
    assert list(refused.value.errors) == ["email_subject_template"]


def test_each_outcome_is_recorded_once_and_gives_the_sends_status(billing):
    invoice = billing.issued_invoice()
    billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr",
                                   to=("louise@atelier-martin.fr", "compta@atelier-martin.fr")))
    billing.deliver_events()
    assert len(billing.mails()) == 2
    outcome = MailOutcome(f"invoice-send:{invoice.id}:send-1:0", "acct-1",
                          {"kind": "invoice", "document_id": invoice.id, "send_id": "send-1", "recipient": 0},
                          "sent", None, 1, clock_at(NOW)())
    assert billing.bus.handle(sending.outcome_command(outcome)) is True
    assert billing.bus.handle(sending.outcome_command(outcome)) is False  # reported again after a crash
    send = billing.bus.handle(commands.IssueInvoice("acct-1", invoice.id)).sends["send-1"]
    assert send.status == "queued"  # one mail of two went
    billing.bus.handle(RecordSendOutcome("acct-1", "invoice", invoice.id, "send-1", 1, "failed", "rejected", 1, NOW))
    send = billing.bus.handle(commands.IssueInvoice("acct-1", invoice.id)).sends["send-1"]
    assert (send.status, send.reason) == ("failed", "rejected")
    assert [e.event_type for e in billing.store.all_events][-2:] == ["InvoiceSent", "InvoiceSendFailed"]


def test_a_failure_reported_without_a_reason_is_one_the_published_schema_lists(billing):
    """The answer's `reason` enums name crm_platform.mail's reasons: a failure without one is `undeliverable`."""
    invoice = billing.issued_invoice()
    billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr", to=("louise@atelier-martin.fr",)))
    billing.bus.handle(RecordSendOutcome("acct-1", "invoice", invoice.id, "send-1", 0, "failed", None, 1, NOW))
    send = billing.bus.handle(commands.IssueInvoice("acct-1", invoice.id)).sends["send-1"]
    assert (send.status, send.reason) == ("failed", "undeliverable")
    assert SendSchema().validate(send.to_dict()) == {}


def test_a_mail_the_billing_service_did_not_queue_as_a_send_is_no_command():
    outcome = MailOutcome("other:1", "acct-1", {}, "sent", None, 1, clock_at(NOW)())
    assert sending.outcome_command(outcome) is None


def test_the_persons_export_holds_the_addresses_and_subject_of_each_send(billing):
    from datetime import date

    from billing.service_layer.privacy_export import BillingExport
    invoice = billing.issued_invoice()
    billing.bus.handle(SendInvoice("acct-1", invoice.id, "send-1", "fr", subject="Votre facture"))
    invoice = billing.bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    export = BillingExport()
    export.add_invoice(invoice, date(2026, 1, 2))
    [send] = export.details["invoices"][0]["sends"]
    assert (send["to"], send["subject"], send["status"]) == (["louise@atelier-martin.fr"], "Votre facture", "queued")


def test_a_sent_quote_is_mailed_with_its_pdf_and_a_draft_one_is_not(billing):
    from billing.domain import quote_commands
    from billing.domain.send_commands import MailQuote
    billing.issued_invoice()  # the seller set
    quote = billing.bus.handle(quote_commands.CreateQuoteDraft("acct-1", "contact:1", (LINE,)))
    with pytest.raises(DocumentNotSendable):
        billing.bus.handle(MailQuote("acct-1", quote.id, "send-1", "en"))
    quote = billing.bus.handle(quote_commands.SendQuote("acct-1", quote.id))
    billing.bus.handle(MailQuote("acct-1", quote.id, "send-1", "en"))
    billing.deliver_events()
    billing.deliver_events()
    [mail] = billing.mails()
    assert mail.mail_id == f"quote-send:{quote.id}:send-1:0" and mail.to == "louise@atelier-martin.fr"
    assert mail.subject == f"Quote {quote.number} - Agence Dupont"
    assert mail.attachments[0].filename == f"{quote.number}.pdf"
    assert mail.reference["kind"] == "quote"
    outcome = MailOutcome(mail.mail_id, "acct-1", mail.reference, "sent", None, 1, clock_at(NOW)())
    assert billing.bus.handle(sending.outcome_command(outcome)) is True
    assert billing.bus.handle(sending.outcome_command(outcome)) is False
    assert [e.event_type for e in billing.store.all_events][-2:] == ["QuoteMailRequested", "QuoteMailed"]


def test_the_persons_export_holds_the_addresses_of_a_quotes_mailings(billing):
    from datetime import datetime, timezone

    from billing.domain import quote_commands
    from billing.domain.send_commands import MailQuote
    from billing.service_layer.privacy_export import BillingExport
    quote = billing.bus.handle(quote_commands.CreateQuoteDraft("acct-1", "contact:1", (LINE,)))
    billing.bus.handle(quote_commands.SendQuote("acct-1", quote.id))
    billing.bus.handle(MailQuote("acct-1", quote.id, "send-1", "fr", ("achats@atelier-martin.fr",)))
    quote = billing.bus.handle(quote_commands.SendQuote("acct-1", quote.id))
    export = BillingExport()
    export.add_quote(quote, datetime(2026, 1, 2, tzinfo=timezone.utc), "Europe/Paris")
    [send] = export.details["quotes"][0]["sends"]
    assert send["to"] == ["achats@atelier-martin.fr"]


def test_a_quote_is_not_mailed_to_a_contact_who_restricted_processing(billing):
    """Art. 18: a quote is commercial (no legal obligation, unlike an issued invoice): mailing it is refused."""
    from crm_platform.processing_restrictions import ProcessingRestricted
    from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions

    from billing.domain import quote_commands
    from billing.domain.send_commands import MailQuote
    from billing.service_layer import dispatch

    billing.issued_invoice()  # the seller set
    quote = billing.bus.handle(quote_commands.SendQuote("acct-1", billing.bus.handle(
        quote_commands.CreateQuoteDraft("acct-1", "contact:1", (LINE,))).id))
    restrictions = InMemoryProcessingRestrictions()
    restrictions.restrict("acct-1", ["contact:1"], "request-1")
    bus = MessageBus.build(dispatch.COMMAND_HANDLERS, {}, {"uow": Fresh(billing.unit_of_work),
                                                           "clock": clock_at(NOW), "restrictions": restrictions})
    with pytest.raises(ProcessingRestricted):
        bus.handle(MailQuote("acct-1", quote.id, "send-1", "en"))
    restrictions.lift("acct-1", ["contact:1"], "request-1")
    assert bus.handle(MailQuote("acct-1", quote.id, "send-1", "en")).send_id == "send-1"


def credit_note_of(billing):
    invoice = billing.issued_invoice()
    return billing.bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "remise", [{**LINE, "quantity": "1"}]))


def test_an_issued_credit_note_is_mailed_once_with_its_pdf_and_its_outcome_recorded(billing):
    from billing.domain.send_commands import SendCreditNote
    note = credit_note_of(billing)
    send = billing.bus.handle(SendCreditNote("acct-1", note.id, "send-1", "en"))
    assert send.status == "queued" and send.recipients == 1
    billing.deliver_events()
    billing.deliver_events()  # redelivered: queued once
    [mail] = billing.mails()
    assert mail.mail_id == f"credit_note-send:{note.id}:send-1:0" and mail.to == "louise@atelier-martin.fr"
    assert mail.subject == f"Credit note {note.number} - Agence Dupont"
    assert mail.attachments[0].filename == f"{note.number}.pdf"
    assert mail.attachments[0].data == f"%PDF-1.7 {note.number} en".encode()
    assert mail.reference == {"kind": "credit_note", "document_id": note.id, "send_id": "send-1", "recipient": 0}
    outcome = MailOutcome(mail.mail_id, "acct-1", mail.reference, "sent", None, 1, clock_at(NOW)())
    assert billing.bus.handle(sending.outcome_command(outcome)) is True
    assert billing.bus.handle(sending.outcome_command(outcome)) is False
    requested, sent = [e for e in billing.store.all_events if e.aggregate_id == note.id][-2:]
    assert (requested.event_type, sent.event_type) == ("CreditNoteSendRequested", "CreditNoteSent")
    # sealed under its invoice's key, as every event of a credit note: one shred erases both
    assert requested.payload["personal"]["subject"] == f"billing-document:{note.invoice_id}"
    with billing.unit_of_work() as uow:
        assert uow.credit_notes.get("acct-1", note.id).sends["send-1"].status == "sent"


def test_a_credit_note_not_issued_or_kept_for_the_law_only_is_not_mailed_and_a_bounced_address_is_refused(billing):
    from datetime import date

    from billing.domain.credit_notes import CreditNote
    from billing.domain.errors import ProcessingRestricted
    from billing.domain.send_commands import SendCreditNote
    invoice = billing.issued_invoice()
    with billing.unit_of_work() as uow:  # a credit note started, its issue not finished
        started = CreditNote.start(uow.invoices.get("acct-1", invoice.id), None, "annulation", date(2026, 1, 2),
                                   {"name": "Agence Dupont"}, "AV-{YYYY}-{SEQ:4}")
        uow.credit_notes.add(started)
        uow.commit()
    with pytest.raises(DocumentNotSendable) as refused:
        billing.bus.handle(SendCreditNote("acct-1", started.id, "send-1", "fr"))
    assert "only an issued credit note is sent" in str(refused.value)
    note = billing.bus.handle(commands.FinishCreditNote("acct-1", started.id))
    billing.customers.put("acct-1", "contact:1", BUYER, bounced=("louise@atelier-martin.fr",))
    with pytest.raises(InvalidInput) as refused:
        billing.bus.handle(SendCreditNote("acct-1", note.id, "send-1", "fr"))
    assert refused.value.errors == {"to": {"0": ["this address has bounced: mail to it does not arrive"]}}
    with billing.unit_of_work() as uow:  # its person's erasure keeps it for the law only (read only)
        kept = uow.credit_notes.get("acct-1", note.id)
        kept.restrict_processing("2036-12-31", "legal obligation", date(2026, 1, 3))
        uow.commit()
    with pytest.raises(ProcessingRestricted):
        billing.bus.handle(SendCreditNote("acct-1", note.id, "send-1", "fr", to=("compta@atelier-martin.fr",)))
    assert not any(e.event_type == "CreditNoteSendRequested" for e in billing.store.all_events)
