"""Which of billing's events make an entry on a contact's timeline, and that no entry says anything personal."""
from datetime import datetime, timezone

import pytest

from crm_platform.timeline import TimelineEntry

from billing.domain.credit_notes import CreditNoteAbandoned, CreditNoteIssued, CreditNoteSendRequested
from billing.domain.invoice_events import (InvoiceDrafted, InvoiceDraftDeleted, InvoiceIssued, InvoiceIssueStarted,
                                           InvoicePaid, InvoicePaymentRecorded, InvoicePaymentRemoved,
                                           InvoiceProcessingRestricted, InvoiceSendRequested, InvoiceSent,
                                           InvoiceVoided)
from billing.domain.quote_events import (QuoteAccepted, QuoteConverted, QuoteDeclined, QuoteDrafted, QuoteErased,
                                         QuoteMailRequested, QuoteSent)
from billing.service_layer.timeline_entries import ENTRY_EVENTS, KINDS, timeline_entries

AT = datetime(2026, 11, 30, 16, 5, 7, 250000, tzinfo=timezone.utc)
PERSONAL = ("Louise", "louise@example.org", "Merci", "VIR Louise", "trop cher", "erreur de saisie", "Votre facture")

MAPPED = [
    (InvoiceIssued("inv:1", "acct-1", "c1", "F-2026-0001", "2026-11-30", "2026-12-30", "EUR", "960"),
     "invoice.issued", "invoice", "inv:1",
     {"number": "F-2026-0001", "total": "960.00", "currency": "EUR", "issued_on": "2026-11-30",
      "due_on": "2026-12-30", "status": "issued"}),
    (InvoicePaymentRecorded("inv:1", "acct-1", "c1", "pay:1", "100.00", "2026-11-30", "card", "860.00",
                            reference="VIR Louise"),
     "invoice.payment_recorded", "invoice", "inv:1",
     {"payment_id": "pay:1", "amount": "100.00", "paid_on": "2026-11-30", "method": "card", "amount_due": "860.00"}),
    (InvoicePaymentRemoved("inv:1", "acct-1", "c1", "pay:1", "erreur de saisie", "960.00"),
     "invoice.payment_removed", "invoice", "inv:1", {"payment_id": "pay:1", "amount_due": "960.00"}),
    (InvoicePaid("inv:1", "acct-1", "c1", "2026-12-01"), "invoice.paid", "invoice", "inv:1",
     {"paid_on": "2026-12-01", "status": "paid"}),
    (InvoiceVoided("inv:1", "acct-1", "c1", "erreur de saisie"), "invoice.voided", "invoice", "inv:1",
     {"status": "void"}),
    (InvoiceSendRequested(invoice_id="inv:1", account_id="acct-1", contact_id="c1", send_id="send:1", lang="fr",
                          recipients=1, requested_at="2026-11-30T16:05:07Z", to=["louise@example.org"],
                          mail_subject="Votre facture", mail_text="Merci"),
     "invoice.mail_requested", "invoice", "inv:1", {"send_id": "send:1", "recipients": 1, "lang": "fr"}),
    (CreditNoteIssued("cn:1", "acct-1", "c1", "inv:1", "AV-2026-0001", "2026-11-30", "EUR", "120.00"),
     "credit_note.issued", "credit_note", "cn:1",
     {"number": "AV-2026-0001", "invoice_id": "inv:1", "total": "120.00", "currency": "EUR",
      "issued_on": "2026-11-30"}),
    (CreditNoteSendRequested(credit_note_id="cn:1", account_id="acct-1", invoice_id="inv:1", contact_id="c1",
                             send_id="send:3", lang="fr", recipients=1, requested_at="2026-11-30T16:05:07Z",
                             to=["louise@example.org"], mail_subject="Votre avoir", mail_text="Merci"),
     "credit_note.mail_requested", "credit_note", "cn:1", {"send_id": "send:3", "recipients": 1, "lang": "fr"}),
    (QuoteSent("q:1", "acct-1", "c1", "D-2026-0001", "2026-11-30", "2026-12-30", "JPY", "960.4"),
     "quote.sent", "quote", "q:1",
     {"number": "D-2026-0001", "total": "960", "currency": "JPY", "sent_on": "2026-11-30",
      "valid_until": "2026-12-30", "status": "sent"}),
    (QuoteAccepted("q:1", "acct-1", "c1", "2026-12-02"), "quote.accepted", "quote", "q:1",
     {"accepted_on": "2026-12-02", "status": "accepted"}),
    (QuoteDeclined("q:1", "acct-1", "c1", "2026-12-02", "trop cher"), "quote.declined", "quote", "q:1",
     {"declined_on": "2026-12-02", "status": "declined"}),
    (QuoteConverted("q:1", "acct-1", "c1", "inv:2", "2026-12-03"), "quote.converted", "quote", "q:1",
     {"invoice_id": "inv:2", "converted_on": "2026-12-03", "status": "converted"}),
    (QuoteMailRequested(quote_id="q:1", account_id="acct-1", contact_id="c1", send_id="send:2", lang="en",
                        recipients=2, requested_at="2026-11-30T16:05:07Z", to=["louise@example.org", "b@example.org"],
                        mail_subject="Votre devis", mail_text="Merci"),
     "quote.mail_requested", "quote", "q:1", {"send_id": "send:2", "recipients": 2, "lang": "en"}),
]


@pytest.mark.parametrize("event, kind, subject_type, subject_id, summary", MAPPED,
                         ids=[type(row[0]).__name__ for row in MAPPED])
def test_an_event_about_a_document_is_one_entry_on_its_contacts_timeline(event, kind, subject_type, subject_id,
                                                                         summary):
    assert timeline_entries(event, "event-1", AT) == [
        ("c1", TimelineEntry("event-1", AT, kind, subject_type, subject_id, summary))]


def test_no_entry_holds_what_a_person_typed_or_is_called():
    for event, *_ in MAPPED:
        [(_, entry)] = timeline_entries(event, "event-1", AT)
        assert not any(text in str(entry.summary) for text in PERSONAL)


def test_every_kind_made_is_listed_once_and_every_event_making_one_is_decoded():
    assert sorted({row[1] for row in MAPPED}) == sorted(KINDS) and len(set(KINDS)) == len(KINDS)
    assert set(ENTRY_EVENTS) == {type(row[0]) for row in MAPPED}


LINE = {"quantity": "1", "unit": "jour", "unit_price": "800", "taxes": [{"category": "S", "rate": "20"}]}


@pytest.mark.parametrize("event", [
    InvoiceDrafted("inv:1", "acct-1", "c1", "EUR", [LINE], ["Audit"], False, {"days": 30}, "Merci", ""),
    InvoiceDraftDeleted("inv:1", "acct-1"),
    InvoiceIssueStarted("inv:1", "acct-1", "c1", "2026-11-30", "2026-12-30", 2026, "F-{YYYY}-{####}",
                        {"name": "Louise"}, {}, {}),
    InvoiceSent("inv:1", "acct-1", "send:1", 0, 1, "2026-11-30T16:05:07Z"),
    InvoiceProcessingRestricted("inv:1", "acct-1", "2036-12-31", "Art. 17(3)(b)", "2026-12-01"),
    CreditNoteAbandoned("cn:1", "acct-1", "c1", "inv:1", "the invoice is void"),
    QuoteDrafted("q:1", "acct-1", "c1", "EUR", [LINE], ["Audit"], False, "Merci", ""),
    QuoteErased("q:1", "acct-1"),
], ids=lambda event: type(event).__name__)
def test_drafts_issues_begun_mail_outcomes_and_erasures_make_no_entry(event):
    assert timeline_entries(event, "event-1", AT) == []
