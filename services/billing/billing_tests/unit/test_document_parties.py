"""Which events billing's event store notes a document's parties from (adapters/document_parties.py)."""
import dataclasses

from crm_platform.envelope import new_envelope

from billing.adapters.document_parties import PARTY_EVENTS, party_entries
from billing.service_layer.unit_of_work import UnitOfWork

# the events naming a contact that always name the one the document is for already (recorded with the document's
# own `contact_id`, or a credit note's started one): their commits are not looked at
REPEAT_THE_CONTACT = frozenset({
    "InvoiceIssued", "InvoicePaymentRecorded", "InvoicePaymentRemoved", "InvoicePaid", "InvoiceCredited",
    "InvoiceVoided", "InvoiceSendRequested", "CreditNoteIssued", "CreditNoteAbandoned", "CreditNoteSendRequested",
    "QuoteSent", "QuoteAccepted", "QuoteDeclined", "QuoteConverted", "QuoteMailRequested",
    "RecurringInvoiceGenerated"})


def test_each_event_naming_a_contact_is_either_noted_or_known_to_repeat_the_document_s_contact():
    """A new event class naming a contact fails here until someone decides whether it may bring a document a new
    party (then PARTY_EVENTS notes it) or not: one missed would leave a person's document unlisted."""
    naming = {event.event_type() for event in UnitOfWork.aggregates_event_classes()
              if "contact_id" in {field.name for field in dataclasses.fields(event)}}
    assert naming == PARTY_EVENTS | REPEAT_THE_CONTACT
    assert not PARTY_EVENTS & REPEAT_THE_CONTACT


def envelope(event_type: str, aggregate_type: str, aggregate_id: str, version: int, **payload):
    return new_envelope(event_type=event_type, aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                        aggregate_version=version, account_id="acct-1", payload=payload)


def test_a_draft_moved_is_noted_for_each_contact_once_and_a_payment_brings_no_entry():
    events = [envelope("InvoiceDrafted", "Invoice", "invoice:1", 1, contact_id="contact:1"),
              envelope("InvoiceDraftUpdated", "Invoice", "invoice:1", 2, contact_id="contact:2"),
              envelope("InvoiceDraftUpdated", "Invoice", "invoice:1", 3, contact_id="contact:2"),
              envelope("InvoicePaymentRecorded", "Invoice", "invoice:1", 4, contact_id="contact:3")]
    assert sorted((entry["document_id"], entry["party"]) for entry in party_entries(events)) == [
        ("invoice:1", "contact:1"), ("invoice:1", "contact:2")]


def test_a_credit_note_is_noted_for_its_contact_with_its_invoice():
    [entry] = party_entries([envelope("CreditNoteIssueStarted", "CreditNote", "credit-note:1", 1,
                                      contact_id="contact:1", invoice_id="invoice:1")])
    assert (entry["party"], entry["aggregate_type"], entry["invoice_id"]) == ("contact:1", "CreditNote", "invoice:1")
