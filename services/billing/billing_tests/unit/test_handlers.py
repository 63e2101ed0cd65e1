"""The real handlers through the message bus, on the in-memory event store, key store and fake ports."""
import json
import threading
from decimal import Decimal

import pytest

from crm_platform.errors import Conflict, InvalidInput
from crm_platform.event_store import MAX_EVENT_BYTES
from crm_platform.message_bus import MessageBus

from billing.domain import commands, document_lines
from billing.domain.credit_notes import CreditNote, credit_note_id_for
from billing.domain.errors import (CustomerDeleted, IdAlreadyUsed, InvoiceNotCreditable, InvoiceNotEditable,
                                   InvoiceNotFound, StaleInvoiceRevision, UnknownCustomer)
from billing.domain.invoices import MAX_REASON, Invoice
from billing.service_layer import handlers

from .fakes import FakeUnitOfWork, clock_at
from .test_invoices import BOOKS, BUYER, WEB_DAYS

COMMAND_HANDLERS = {
    commands.CreateInvoiceDraft: handlers.create_invoice_draft,
    commands.UpdateInvoiceDraft: handlers.update_invoice_draft,
    commands.DeleteInvoiceDraft: handlers.delete_invoice_draft,
    commands.IssueInvoice: handlers.issue_invoice,
    commands.RecordPayment: handlers.record_payment,
    commands.RemovePayment: handlers.remove_payment,
    commands.VoidInvoice: handlers.void_invoice,
    commands.IssueCreditNote: handlers.issue_credit_note,
    commands.FinishCreditNote: handlers.finish_credit_note,
}
C1 = credit_note_id_for("acct-1", "credit-note:c1")  # the id of the note the key "credit-note:c1" asks for
# 23:30 UTC on 10 March is 00:30 on 11 March in Paris: the account's day is the 11th.
CLOCK = clock_at("2026-03-10T23:30")


@pytest.fixture
def uow():
    uow = FakeUnitOfWork(legal_terms="Pénalités de retard : 3 fois le taux d'intérêt légal. "
                                     "Indemnité forfaitaire pour frais de recouvrement : 40 €.")
    uow.customers.put("acct-1", "contact:1", BUYER)
    return uow


@pytest.fixture
def bus(uow):
    return MessageBus.build(COMMAND_HANDLERS, {}, {"uow": uow, "clock": CLOCK})


def new_draft(bus, **fields) -> Invoice:
    return bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:1", **{"lines": (WEB_DAYS, BOOKS), **fields}))


def test_the_french_invoice_from_draft_to_paid_worked_out_by_hand(bus, uow):
    # Draft: 3 days x 450.00 at 20 % (net 1350.00), 2 books x 24.99 at 5.5 % (net 49.98), 10 % off the document.
    #   20 % base 1350.00 - 135.00 = 1215.00, VAT 243.00
    #   5.5 % base 49.98 - 5.00 (4.998 rounded) = 44.98, VAT 2.4739 -> 2.47
    #   total 1399.98 - 140.00 + 245.47 = 1505.45
    invoice = new_draft(bus, discount={"kind": "percent", "value": "10"})
    assert invoice.draft["legal_terms"].endswith("40 €.")
    assert invoice.draft["payment_term"] == {"kind": "net", "days": 30}
    invoice = bus.handle(commands.IssueInvoice("acct-1", invoice.id, revision=1))
    assert (invoice.number, invoice.issued_on, invoice.due_on) == ("F-2026-0001", "2026-03-11", "2026-04-10")
    assert invoice.totals.total == Decimal("1505.45") and invoice.buyer == BUYER and invoice.seller["siren"]
    # A partial payment of 500.00: 1005.45 due.
    invoice = bus.handle(commands.RecordPayment("acct-1", invoice.id, "500.00", "2026-03-11", "bank_transfer"))
    assert invoice.amount_due == Decimal("1005.45") and invoice.status(invoice.issued_on_date) == "partially_paid"
    # One book comes back, credited at its price less the document's 10 %: 24.99 - 2.50 (2.499) = 22.49,
    # VAT 5.5 % 1.23695 -> 1.24, credit note total 23.73; 1005.45 - 23.73 = 981.72 due.
    returned = {**BOOKS, "quantity": "1"}
    note = bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Livre retourné", lines=(returned,)))
    assert (note.number, note.totals.total, note.invoice_id) == ("AV-2026-0001", Decimal("23.73"), invoice.id)
    invoice = uow_invoice(uow, invoice.id)
    assert invoice.amount_due == Decimal("981.72") and invoice.amount_credited == Decimal("23.73")
    invoice = bus.handle(commands.RecordPayment("acct-1", invoice.id, "981.72", "2026-03-11", "card"))
    assert invoice.amount_due == 0 and invoice.status(invoice.issued_on_date) == "paid"
    assert [e.event_type for e in uow.store.all_events] == [
        "InvoiceDrafted", "InvoiceIssueStarted", "InvoiceIssued", "InvoicePaymentRecorded", "CreditNoteIssueStarted",
        "InvoiceCredited", "CreditNoteIssued", "InvoicePaymentRecorded", "InvoicePaid"]


def uow_invoice(uow, invoice_id) -> Invoice:
    with uow:
        return uow.invoices.get("acct-1", invoice_id)


def test_what_is_stored_is_small_money_as_strings_and_personal_data_sealed(bus, uow):
    invoice = new_draft(bus, notes="Appeler Louise avant livraison")
    bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    bus.handle(commands.RecordPayment("acct-1", invoice.id, "10", "2026-03-11", "check", reference="Chèque Martin"))
    for envelope in uow.store.all_events:
        text = str(envelope.payload)
        assert "Louise" not in text and "Martin" not in text and "Appeler" not in text
        assert "Decimal" not in text and not any(isinstance(value, float) for value in envelope.payload.values())
    issued = next(e for e in uow.store.all_events if e.event_type == "InvoiceIssued")
    assert issued.payload == {"contact_id": "contact:1", "number": "F-2026-0001", "issued_on": "2026-03-11",
                              "due_on": "2026-04-10", "currency": "EUR", "total": "1672.73"}
    paid = next(e for e in uow.store.all_events if e.event_type == "InvoicePaymentRecorded")
    assert (paid.payload["amount"], paid.payload["amount_due"], "personal" in paid.payload) == ("10", "1662.73", True)


def test_a_draft_needs_a_live_contact_of_the_account(bus, uow):
    with pytest.raises(UnknownCustomer) as refused:
        bus.handle(commands.CreateInvoiceDraft("acct-2", "contact:1"))
    assert refused.value.status == 422 and "contact_id" in refused.value.errors
    invoice = new_draft(bus)
    uow.customers.put("acct-1", "contact:1", BUYER, deleted=True)
    with pytest.raises(CustomerDeleted) as refused:
        bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    assert "contact_id" in refused.value.errors
    uow.customers.put("acct-1", "contact:2", {**BUYER, "name": "Paul Martin"})
    bus.handle(commands.UpdateInvoiceDraft("acct-1", invoice.id, 1, {"contact_id": "contact:2"}))
    assert bus.handle(commands.IssueInvoice("acct-1", invoice.id)).buyer["name"] == "Paul Martin"


def test_a_draft_follows_its_contact_into_a_merge_until_issued(bus, uow):
    invoice = new_draft(bus)
    uow.customers.put("acct-1", "contact:9", {**BUYER, "name": "Louise Martin-Durand"})
    uow.customers.merge("acct-1", "contact:1", into="contact:9")
    invoice = bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    assert invoice.contact_id == "contact:9" and invoice.buyer["name"] == "Louise Martin-Durand"
    issued = [e for e in uow.store.all_events if e.event_type == "InvoiceIssued"]
    assert issued[0].payload["contact_id"] == "contact:9"


def test_issuing_again_finishes_the_same_issue_with_the_same_number(bus, uow):
    first, second = new_draft(bus), new_draft(bus)
    reserve = uow.number_series.reserve

    def reserve_then_crash(*args):
        reserve(*args)
        raise ConnectionError("the process died after reserving the number")

    uow.number_series.reserve = reserve_then_crash
    with pytest.raises(ConnectionError):
        bus.handle(commands.IssueInvoice("acct-1", first.id))
    uow.number_series.reserve = reserve
    with pytest.raises(InvoiceNotEditable):  # frozen: a reserved number never loses its document
        bus.handle(commands.DeleteInvoiceDraft("acct-1", first.id))
    assert bus.handle(commands.IssueInvoice("acct-1", second.id)).number == "F-2026-0002"
    assert bus.handle(commands.IssueInvoice("acct-1", first.id)).number == "F-2026-0001"  # the sweep, or a retry
    assert bus.handle(commands.IssueInvoice("acct-1", first.id)).number == "F-2026-0001"
    assert [e.payload["number"] for e in uow.store.all_events if e.event_type == "InvoiceIssued"] == [
        "F-2026-0002", "F-2026-0001"]


def test_concurrent_issues_number_every_invoice_once_without_a_gap(uow):
    drafts = [handlers.create_invoice_draft(commands.CreateInvoiceDraft("acct-1", "contact:1", (WEB_DAYS,)), uow)
              for _ in range(12)]
    numbers, errors = [], []

    def issue(invoice_id):
        mine = FakeUnitOfWork(uow.store, uow.cipher)  # a unit of work per thread, as gunicorn's workers have
        mine.number_series, mine.customers = uow.number_series, uow.customers
        try:
            numbers.append(handlers.issue_invoice(commands.IssueInvoice("acct-1", invoice_id), mine, CLOCK).number)
        except Exception as exc:  # collected, so that the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(draft.id,)) for draft in drafts * 2]  # each one twice
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(set(numbers)) == [f"F-2026-{n:04d}" for n in range(1, 13)]
    assert len([e for e in uow.store.all_events if e.event_type == "InvoiceIssued"]) == 12


def test_only_drafts_are_edited_and_deleted_and_revisions_are_checked(bus):
    invoice = new_draft(bus)
    with pytest.raises(StaleInvoiceRevision):
        bus.handle(commands.UpdateInvoiceDraft("acct-1", invoice.id, 7, {"notes": "x"}))
    with pytest.raises(InvalidInput) as refused:
        bus.handle(commands.UpdateInvoiceDraft("acct-1", invoice.id, 1, {"number": "F-1"}))
    assert "number" in refused.value.errors
    bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    with pytest.raises(InvoiceNotEditable) as refused:
        bus.handle(commands.UpdateInvoiceDraft("acct-1", invoice.id, None, {"notes": "x"}))
    assert refused.value.status == 409
    other = new_draft(bus)
    bus.handle(commands.DeleteInvoiceDraft("acct-1", other.id, 1))
    with pytest.raises(InvoiceNotFound):
        bus.handle(commands.IssueInvoice("acct-1", other.id))


def test_another_accounts_invoice_is_not_found(bus):
    invoice = new_draft(bus)
    with pytest.raises(InvoiceNotFound):
        bus.handle(commands.IssueInvoice("acct-2", invoice.id))


def test_a_draft_created_again_with_its_id_is_created_once(bus, uow):
    first = new_draft(bus, invoice_id="invoice:from-client-1")
    again = new_draft(bus, invoice_id="invoice:from-client-1")
    assert first.id == again.id and len(uow.store.all_events) == 1


def test_payments_are_removed_with_a_reason_and_a_paid_invoice_cannot_be_voided(bus):
    invoice = bus.handle(commands.IssueInvoice("acct-1", new_draft(bus).id))
    invoice = bus.handle(commands.RecordPayment("acct-1", invoice.id, "1672.73", "2026-03-11", "card",
                                                payment_id="payment:1"))
    with pytest.raises(Conflict):
        bus.handle(commands.VoidInvoice("acct-1", invoice.id, "Erreur"))
    invoice = bus.handle(commands.RemovePayment("acct-1", invoice.id, "payment:1", "Paiement contesté"))
    invoice = bus.handle(commands.VoidInvoice("acct-1", invoice.id, "Erreur"))
    assert invoice.status(invoice.issued_on_date) == "void"
    with pytest.raises(InvoiceNotCreditable):
        bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "x"))


def test_a_credit_note_interrupted_after_its_number_is_finished_once(bus, uow):
    invoice = bus.handle(commands.IssueInvoice("acct-1", new_draft(bus).id))
    reserve = uow.number_series.reserve

    def reserve_then_crash(*args):
        reserve(*args)
        raise ConnectionError("the process died after reserving the number")

    uow.number_series.reserve = reserve_then_crash
    with pytest.raises(ConnectionError):
        bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Annulée", credit_note_id="credit-note:c1"))
    uow.number_series.reserve = reserve
    note = bus.handle(commands.FinishCreditNote("acct-1", C1))  # what the sweep sends
    again = bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Annulée", credit_note_id="credit-note:c1"))
    assert note.number == again.number == "AV-2026-0001"
    assert uow_invoice(uow, invoice.id).amount_due == 0
    assert [e.event_type for e in uow.store.all_events].count("InvoiceCredited") == 1
    assert [e.event_type for e in uow.store.all_events].count("CreditNoteIssued") == 1
    other = bus.handle(commands.IssueInvoice("acct-1", new_draft(bus).id))
    with pytest.raises(InvalidInput):  # the same credit note id for another invoice
        bus.handle(commands.IssueCreditNote("acct-1", other.id, "x", credit_note_id="credit-note:c1"))


def test_today_is_the_accounts_day(uow):
    defaults = uow.account_defaults.for_account("acct-1")
    assert defaults.today(CLOCK).isoformat() == "2026-03-11"
    assert type(defaults)(time_zone="America/New_York").today(CLOCK).isoformat() == "2026-03-10"


def test_a_credit_note_in_a_repository_is_a_credit_note(bus, uow):
    invoice = bus.handle(commands.IssueInvoice("acct-1", new_draft(bus).id))
    note = bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Annulée"))
    with uow:
        assert isinstance(uow.credit_notes.get("acct-1", note.id), CreditNote)
        assert uow.credit_notes.find("acct-1", invoice.id) is None


def test_two_payments_racing_for_what_is_due_cannot_both_be_recorded(bus, uow):
    invoice = bus.handle(commands.IssueInvoice("acct-1", new_draft(bus).id))  # 1672.73 due
    other = FakeUnitOfWork(uow.store, uow.cipher)
    other.account_defaults = uow.account_defaults
    with uow, other:  # both read the invoice at the same revision, each payment fits alone
        for each in (uow, other):
            each.invoices.get("acct-1", invoice.id).record_payment(None, "1000", "2026-03-11", "card",
                                                                   today=invoice.issued_on_date)
        uow.commit()
        with pytest.raises(Conflict):
            other.commit()
    assert uow_invoice(uow, invoice.id).amount_due == Decimal("672.73")
    with pytest.raises(InvalidInput) as refused:  # sent again on the current revision: refused as an overpayment
        bus.handle(commands.RecordPayment("acct-1", invoice.id, "1000", "2026-03-11", "card"))
    assert "amount" in refused.value.errors


def test_erasing_the_contact_a_draft_was_first_for_leaves_the_issued_invoice_of_the_next_whole(bus, uow):
    uow.customers.put("acct-1", "contact:2", {**BUYER, "name": "Paul Martin"})
    invoice = new_draft(bus, notes="Livrer à l'atelier")
    bus.handle(commands.UpdateInvoiceDraft("acct-1", invoice.id, 1, {"contact_id": "contact:2"}))
    reserve = uow.number_series.reserve

    def reserve_then_crash(*args):
        reserve(*args)
        raise ConnectionError("the process died after reserving the number")

    uow.number_series.reserve = reserve_then_crash
    with pytest.raises(ConnectionError):
        bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    uow.number_series.reserve = reserve
    subjects = {e.payload["personal"]["subject"] for e in uow.store.all_events if "personal" in e.payload}
    assert subjects == {f"billing-document:{invoice.id}"}  # one key for the whole document, whoever it was for
    uow.cipher.shred("billing-subject:contact:1")  # what erasing contact 1 shredded: contact 2's invoice lives on
    finished = bus.handle(commands.IssueInvoice("acct-1", invoice.id))  # the sweep finishes it: no gap
    assert (finished.number, finished.contact_id, finished.buyer["name"]) == ("F-2026-0001", "contact:2", "Paul Martin")
    assert finished.contacts_ever == ("contact:1", "contact:2")  # whom the document's key holds data of


def test_a_credit_note_the_invoice_refuses_once_started_is_abandoned_unnumbered_not_left_issuing(bus, uow,
                                                                                                monkeypatch):
    invoice = bus.handle(commands.IssueInvoice("acct-1", new_draft(bus).id))  # 1672.73 due
    credit = Invoice.credit

    def paid_in_full_meanwhile(self, *args):  # a payment lands between the note's start and its credit
        monkeypatch.setattr(Invoice, "credit", credit)
        other = FakeUnitOfWork(uow.store, uow.cipher)
        other.account_defaults = uow.account_defaults
        handlers.record_payment(commands.RecordPayment("acct-1", invoice.id, "1672.73", "2026-03-11", "card"),
                                other, CLOCK)
        return credit(self, *args)

    monkeypatch.setattr(Invoice, "credit", paid_in_full_meanwhile)
    with pytest.raises(InvalidInput) as refused:  # checked again on the paid invoice: nothing is due
        bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Geste", credit_note_id="credit-note:c1"))
    assert "lines" in refused.value.errors
    note = bus.handle(commands.FinishCreditNote("acct-1", C1))  # the sweep: no error, left be
    assert (note.status, note.number) == ("abandoned", None)
    assert uow.ledger.seqs_of("acct-1", "credit_notes", 2026) == {}  # no number reserved: no gap
    with pytest.raises(Conflict) as refused:  # the client's retry learns it was abandoned
        bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Geste", credit_note_id="credit-note:c1"))
    assert "abandoned" in refused.value.detail
    bus.handle(commands.FinishCreditNote("acct-1", C1))
    types = [e.event_type for e in uow.store.all_events]
    assert (types.count("CreditNoteAbandoned"), types.count("InvoiceCredited")) == (1, 0)
    assert uow_invoice(uow, invoice.id).status(invoice.issued_on_date) == "paid"


@pytest.mark.parametrize("make, field", [
    (lambda invoice_id: commands.CreateInvoiceDraft("acct-1", "contact:1", lines=7), "lines"),
    (lambda invoice_id: commands.CreateInvoiceDraft("acct-1", "contact:1", lines="deux jours"), "lines"),
    (lambda invoice_id: commands.CreateInvoiceDraft("acct-1", "contact:1", lines=({"x": 1},)), "lines.0.x"),
    (lambda invoice_id: commands.CreateInvoiceDraft("acct-1", "contact:1", payment_term={}), "payment_term.kind"),
    (lambda invoice_id: commands.CreateInvoiceDraft("acct-1", "contact:1", payment_term=[]), "payment_term"),
    (lambda invoice_id: commands.CreateInvoiceDraft("acct-1", "contact:1", currency=""), "currency"),
    (lambda invoice_id: commands.CreateInvoiceDraft("acct-1", "contact:1", invoice_id=["x"]), "invoice_id"),
    (lambda invoice_id: commands.UpdateInvoiceDraft("acct-1", invoice_id, None, {"lines": 3}), "lines"),
    (lambda invoice_id: commands.UpdateInvoiceDraft("acct-1", invoice_id, None, {"payment_term": {}}),
     "payment_term.kind"),
    (lambda invoice_id: commands.IssueCreditNote("acct-1", invoice_id, "x", lines=5), "lines"),
    (lambda invoice_id: commands.RecordPayment("acct-1", invoice_id, "1", "2026-03-11", "card",
                                               payment_id={"id": 1}), "payment_id"),
    (lambda invoice_id: commands.RecordPayment("acct-1", invoice_id, "1", "2026-03-11", ["card"]), "method"),
    (lambda invoice_id: commands.RemovePayment("acct-1", invoice_id, ["payment:1"], "x"), "payment_id"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_bad_input_is_a_422_naming_its_field_never_a_crash(bus, make, field):
    invoice = new_draft(bus)
    if "UpdateInvoiceDraft" not in make.__code__.co_names:
        invoice = bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    with pytest.raises(InvalidInput) as refused:
        bus.handle(make(invoice.id))
    assert field in refused.value.errors and refused.value.status == 422


def test_a_draft_created_again_with_its_id_is_the_same_draft_or_refused_without_telling_whose_the_id_is(bus, uow):
    first = new_draft(bus, invoice_id="invoice:c1")
    bus.handle(commands.UpdateInvoiceDraft("acct-1", first.id, 1, {"notes": "Edited since"}))
    again = new_draft(bus, invoice_id="invoice:c1")  # a late retry of the creation: the draft as it is now
    assert (again.id, again.draft["notes"], len(uow.store.all_events)) == (first.id, "Edited since", 2)
    with pytest.raises(Conflict) as refused:  # other content under the same id
        new_draft(bus, invoice_id="invoice:c1", lines=(BOOKS,))
    assert refused.value.status == 409 and "invoice_id" in refused.value.detail
    uow.customers.put("acct-1", "contact:2", BUYER)
    with pytest.raises(Conflict):  # another contact
        bus.handle(commands.CreateInvoiceDraft("acct-1", "contact:2", (WEB_DAYS, BOOKS), invoice_id="invoice:c1"))
    deleted = new_draft(bus, invoice_id="invoice:c2")
    bus.handle(commands.DeleteInvoiceDraft("acct-1", deleted.id))
    with pytest.raises(InvoiceNotFound) as deleted_answer:
        new_draft(bus, invoice_id="invoice:c2")
    uow.customers.put("acct-2", "contact:1", BUYER)
    with pytest.raises(InvoiceNotFound) as foreign_answer:  # acct-1's id, from acct-2: as unknown, nothing leaks
        bus.handle(commands.CreateInvoiceDraft("acct-2", "contact:1", (WEB_DAYS, BOOKS), invoice_id="invoice:c1"))
    assert foreign_answer.value.detail == InvoiceNotFound("invoice:c1").detail
    assert deleted_answer.value.detail == InvoiceNotFound("invoice:c2").detail
    assert len([e for e in uow.store.all_events if e.account_id == "acct-2"]) == 0


def test_line_descriptions_staff_type_travel_sealed_like_notes(bus, uow):
    described = {**WEB_DAYS, "description": "Refonte du site de Louise Martin"}
    invoice = bus.handle(commands.IssueInvoice("acct-1", new_draft(bus, lines=(described,)).id))
    bus.handle(commands.UpdateInvoiceDraft("acct-1", new_draft(bus).id, 1, {"lines": [described, BOOKS]}))
    note = bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Annulée", credit_note_id="credit-note:c1"))
    for envelope in uow.store.all_events:
        assert "Louise" not in str(envelope.payload), envelope.event_type
    lines = uow_invoice(uow, invoice.id).draft["lines"]
    assert lines[0]["description"] == "Refonte du site de Louise Martin"
    with uow:
        stored = uow.credit_notes.get("acct-1", note.id)
    assert stored.lines == note.lines == lines


def test_a_full_credit_note_of_the_largest_draft_allowed_fits_in_one_event(bus, uow):
    wide = "𝄞"  # 4 bytes of UTF-8, the most a storable character takes; sealed, base64 makes it 5.3
    line = {"description": wide * document_lines.MAX_DESCRIPTION, "quantity": "12345678.1234",
            "unit": wide * document_lines.MAX_UNIT, "unit_price": "123456.123456",
            "taxes": [{"category": "S", "rate": "20"}], "discount": {"kind": "percent", "value": "12.5"}}
    invoice = new_draft(bus, lines=(line,) * document_lines.MAX_LINES, notes=wide * document_lines.MAX_TEXT,
                        legal_terms=wide * document_lines.MAX_TEXT, discount={"kind": "percent", "value": "10"})
    invoice = bus.handle(commands.IssueInvoice("acct-1", invoice.id))
    note = bus.handle(commands.IssueCreditNote("acct-1", invoice.id, wide * MAX_REASON))
    assert note.issued and len(note.lines) == document_lines.MAX_LINES
    largest = max(len(json.dumps(e.to_dict(), separators=(",", ":"), ensure_ascii=False).encode())
                  for e in uow.store.all_events)
    assert largest < MAX_EVENT_BYTES - 64 * 1024  # room left for the buyer's and the seller's snapshots


def test_numbers_follow_dates_an_issue_numbered_on_a_later_day_is_dated_that_day(uow):
    day_1, day_3 = ({"uow": uow, "clock": clock_at(at)} for at in ("2026-03-10T10:00", "2026-03-12T10:00"))
    on_day_1, on_day_3 = (MessageBus.build(COMMAND_HANDLERS, {}, deps) for deps in (day_1, day_3))
    frozen, numbered_first, reserved = new_draft(on_day_1), new_draft(on_day_1), new_draft(on_day_1)
    reserve = uow.number_series.reserve

    def unreachable(*args):
        raise ConnectionError("the number series could not be reached")

    def reserve_then_crash(*args):
        reserve(*args)
        raise ConnectionError("the process died after reserving the number")

    for draft, failure in ((reserved, reserve_then_crash), (frozen, unreachable)):
        uow.number_series.reserve = failure
        with pytest.raises(ConnectionError):  # frozen on day 1
            on_day_1.handle(commands.IssueInvoice("acct-1", draft.id))
    uow.number_series.reserve = reserve
    numbered_first = on_day_3.handle(commands.IssueInvoice("acct-1", numbered_first.id))
    frozen = on_day_3.handle(commands.IssueInvoice("acct-1", frozen.id))  # the sweep: numbered on day 3
    reserved = on_day_3.handle(commands.IssueInvoice("acct-1", reserved.id))  # its number is from day 1
    assert [(i.number, i.issued_on, i.due_on) for i in (reserved, numbered_first, frozen)] == [
        ("F-2026-0001", "2026-03-10", "2026-04-09"), ("F-2026-0002", "2026-03-12", "2026-04-11"),
        ("F-2026-0003", "2026-03-12", "2026-04-11")]
    issued = [e.payload for e in uow.store.all_events if e.event_type == "InvoiceIssued"]
    dates_by_number = [p["issued_on"] for p in sorted(issued, key=lambda p: p["number"])]
    assert dates_by_number == sorted(dates_by_number)


def test_a_credit_note_numbered_on_a_later_day_is_dated_that_day(uow):
    on_day_1, on_day_3 = (MessageBus.build(COMMAND_HANDLERS, {}, {"uow": uow, "clock": clock_at(at)})
                          for at in ("2026-03-10T10:00", "2026-03-12T10:00"))
    invoice = on_day_1.handle(commands.IssueInvoice("acct-1", new_draft(on_day_1).id))
    reserve = uow.number_series.reserve
    uow.number_series.reserve = lambda *args: (_ for _ in ()).throw(ConnectionError("unreachable"))
    with pytest.raises(ConnectionError):
        on_day_1.handle(commands.IssueCreditNote("acct-1", invoice.id, "Annulée", credit_note_id="credit-note:c1"))
    uow.number_series.reserve = reserve
    note = on_day_3.handle(commands.FinishCreditNote("acct-1", C1))  # the sweep, on day 3
    assert (note.number, note.issued_on.isoformat()) == ("AV-2026-0001", "2026-03-12")


def test_a_credit_note_key_whose_id_is_taken_is_a_neutral_409_not_a_stale_revision(bus, uow):
    invoice = bus.handle(commands.IssueInvoice("acct-1", new_draft(bus).id))
    uow.customers.put("acct-2", "contact:2", BUYER)
    theirs = bus.handle(commands.IssueInvoice("acct-2", bus.handle(commands.CreateInvoiceDraft(
        "acct-2", "contact:2", (WEB_DAYS,))).id))
    with uow:  # another account's note at the id acct-1's key makes (a uuid5 collision, or a stored id of old)
        uow.credit_notes.add(CreditNote.start(theirs, None, "x", theirs.issued_on_date, {}, "AV-{YYYY}-{SEQ:4}",
                                              credit_note_id_for("acct-1", "k-1")))
        uow.commit()
    with pytest.raises(IdAlreadyUsed) as refused:
        bus.handle(commands.IssueCreditNote("acct-1", invoice.id, "Annulée", credit_note_id="k-1"))
    assert refused.value.extra["field"] == "credit_note_id" and "acct-2" not in refused.value.detail
