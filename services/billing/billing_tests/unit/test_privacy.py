"""Billing's part in privacy requests, on the fakes: what a person's erasure deletes, what the law keeps read only,
and what their export holds (issue 13)."""
from datetime import date

import pytest

from crm_platform.contracts.privacy import ErasureRequested, SubjectExportRequested
from crm_platform.personal_data import SubjectErased
from crm_platform.privacy_participation import ExportedPart, RetainedItem

from billing.domain import commands as c
from billing.domain import quote_commands as q
from billing.domain import recurring_commands as r
from billing.domain.credit_notes import CreditNote
from billing.domain.errors import (InvoiceNotEditable, InvoiceNotFound, ProcessingRestricted, QuoteNotFound,
                                   RecurringInvoiceNotFound)
from billing.domain.invoices import Invoice
from billing.domain.retention import LEGAL_BASIS
from billing.domain.settings import ChangeBillingSettings
from billing.service_layer import retention
from billing.service_layer.privacy import BillingPrivacyParticipant, PersonDocuments

from .fakes import clock_at
from .privacy_fakes import BillingOnFakes, KeptParts, ScannedPersonDocuments
from .test_invoices import BOOKS, BUYER, WEB_DAYS

NOW = clock_at("2026-03-10T10:00")
OTHER_BUYER = {"name": "Paul Durand", "emails": ["paul@durand.fr"]}


def erasure(*contact_ids, request_id="request:1"):
    return ErasureRequested(request_id, "acct-1", list(contact_ids), ["billing"], "2026-03-10T10:00:00+00:00")


def export_request(*contact_ids):
    return SubjectExportRequested("request:2", "acct-1", list(contact_ids), ["billing"], "2026-03-10T10:00:00+00:00")


class Louise:
    """contact:1 with a draft, a sent quote, an issued invoice paid in part and credited in part, a recurring invoice
    (whose first occurrence made a draft); contact:2 with an issued invoice of their own."""

    def __init__(self) -> None:
        self.billing = billing = BillingOnFakes(NOW)
        bus = billing.bus
        billing.customers.put("acct-1", "contact:1", BUYER)
        billing.customers.put("acct-1", "contact:2", OTHER_BUYER)
        bus.handle(ChangeBillingSettings("acct-1", 0, {"seller": {"name": "Agence Dupont", "siren": "732829320"}}))
        self.draft = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (WEB_DAYS,), notes="Merci Louise"))
        self.quote = bus.handle(q.CreateQuoteDraft("acct-1", "contact:1", (WEB_DAYS,), notes="Pour Louise"))
        bus.handle(q.SendQuote("acct-1", self.quote.id))
        invoice = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (WEB_DAYS, BOOKS)))
        self.invoice = bus.handle(c.IssueInvoice("acct-1", invoice.id))
        paid = bus.handle(c.RecordPayment("acct-1", self.invoice.id, "100", "2026-03-10", "card", "CB Louise"))
        self.payment_id = list(paid.payments)[0]
        self.note = bus.handle(c.IssueCreditNote("acct-1", self.invoice.id, "livre retourné par Louise",
                                                 ({**BOOKS, "quantity": "1"},)))
        self.recurring = bus.handle(r.CreateRecurringInvoice("acct-1", "contact:1", {"anchor": "2026-03-01",
                                                                                       "every": 1, "unit": "month"},
                                                             "draft", (WEB_DAYS,), notes="Louise, 2e étage"))
        self.generated = bus.handle(r.GenerateDueInvoices("acct-1", self.recurring.id))
        other = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:2", (WEB_DAYS,)))
        self.others = bus.handle(c.IssueInvoice("acct-1", other.id))

    def erase(self, *contact_ids, request_id="request:1"):
        return self.billing.participant(NOW).erase(erasure(*(contact_ids or ("contact:1",)), request_id=request_id))

    def key_erased(self, document_id: str) -> bool:
        return self.billing.cipher.is_erased(f"billing-document:{document_id}")


@pytest.fixture
def louise():
    return Louise()


def test_erasure_deletes_drafts_quotes_and_recurring_invoices_and_keeps_issued_documents_restricted(louise):
    outcome = louise.erase()

    until = "2036-12-31"  # issued in 2026: 31 December 2026 + 10 years
    assert outcome.outcome == "retained"
    assert outcome.retained == [RetainedItem(f"invoice:{louise.invoice.id}", LEGAL_BASIS, until),
                                RetainedItem(f"credit_note:{louise.note.id}", LEGAL_BASIS, until)]
    deleted = [louise.draft.id, *louise.generated, louise.quote.id, louise.recurring.id]
    assert len(deleted) == 4
    assert sorted(outcome.keys_destroyed) == sorted(f"billing-document:{d}" for d in deleted)
    assert outcome.items_erased == 4
    assert all(louise.key_erased(document_id) for document_id in deleted)
    assert not louise.key_erased(louise.invoice.id) and not louise.key_erased(louise.others.id)
    with louise.billing.unit_of_work() as uow:
        for repository, document_id, error in ((uow.invoices, louise.draft.id, InvoiceNotFound),
                                               (uow.quotes, louise.quote.id, QuoteNotFound),
                                               (uow.recurring_invoices, louise.recurring.id, RecurringInvoiceNotFound)):
            with pytest.raises(error):
                repository.get("acct-1", document_id)
        invoice = uow.invoices.get("acct-1", louise.invoice.id)  # still read: the accountant's legal need
        assert (invoice.buyer, invoice.retain_until) == (BUYER, until)
        assert uow.credit_notes.get("acct-1", louise.note.id).retain_until == until
        assert uow.invoices.get("acct-1", louise.others.id).retain_until is None
    assert louise.billing.customers.find("acct-1", "contact:1").deleted  # billing's copy of the contact, dropped
    assert not louise.billing.customers.find("acct-1", "contact:2").deleted


def test_deleted_documents_say_so_before_their_key_goes(louise):
    louise.erase()
    types = {e.aggregate_id: e.event_type for e in louise.billing.store.all_events}  # each one's last event
    assert types[louise.draft.id] == "InvoiceDraftDeleted"
    assert types[louise.quote.id] == "QuoteErased"
    assert types[louise.recurring.id] == "RecurringInvoiceErased"
    assert types[louise.invoice.id] == "InvoiceProcessingRestricted"
    assert types[louise.note.id] == "CreditNoteProcessingRestricted"


def test_erasing_again_records_nothing_and_answers_the_same(louise):
    first = louise.erase()
    stored = len(louise.billing.store.all_events)
    again = louise.erase(request_id="request:9")
    assert len(louise.billing.store.all_events) == stored
    assert (again.outcome, sorted(again.keys_destroyed), again.retained) == (
        first.outcome, sorted(first.keys_destroyed), first.retained)
    assert again.items_erased == 0  # destroyed before, not now


def test_a_person_billing_knows_nothing_of_has_nothing_held(louise):
    outcome = louise.erase("contact:unknown")
    assert (outcome.outcome, outcome.keys_destroyed, outcome.retained, outcome.items_erased) == (
        "nothing_held", [], [], 0)


def test_a_person_with_drafts_only_is_erased(louise):
    bus = louise.billing.bus
    louise.billing.customers.put("acct-1", "contact:3", OTHER_BUYER)
    only = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:3", (WEB_DAYS,)))
    outcome = louise.erase("contact:3")
    assert (outcome.outcome, outcome.keys_destroyed, outcome.items_erased) == (
        "erased", [f"billing-document:{only.id}"], 1)


def test_contacts_merged_into_the_person_are_erased_with_them(louise):
    louise.billing.customers.merge("acct-1", "contact:1", into="contact:2")
    outcome = louise.erase("contact:2")  # contact:1 was merged into contact:2: their documents are one person's
    assert {item.item for item in outcome.retained} >= {f"invoice:{louise.invoice.id}", f"invoice:{louise.others.id}"}


@pytest.mark.parametrize("write", [
    lambda p: c.RecordPayment("acct-1", p.invoice.id, "10", "2026-03-10", "card"),
    lambda p: c.RemovePayment("acct-1", p.invoice.id, p.payment_id, "saisie en double"),
    lambda p: c.VoidInvoice("acct-1", p.others.id, "erreur"),
    lambda p: c.IssueCreditNote("acct-1", p.invoice.id, "remise", ({**BOOKS, "quantity": "1"},)),
], ids=["payment", "payment removal", "void", "credit note"])
def test_every_write_on_a_restricted_invoice_is_refused_naming_why(louise, write):
    louise.erase("contact:1", "contact:2")
    stored = len(louise.billing.store.all_events)
    with pytest.raises(ProcessingRestricted) as refused:
        louise.billing.bus.handle(write(louise))
    assert refused.value.status == 409 and refused.value.extra["reason"] == "processing_restricted"
    assert refused.value.extra["retain_until"] == "2036-12-31"
    assert len(louise.billing.store.all_events) == stored


def test_an_issue_begun_before_the_erasure_is_finished_and_a_credit_note_begun_is_abandoned(louise):
    billing = louise.billing
    with billing.unit_of_work() as uow:  # a credit note started, then the process died before the invoice took it
        note = CreditNote.start(uow.invoices.get("acct-1", louise.others.id), None, "annulation", date(2026, 3, 10),
                                {"name": "Agence Dupont"}, "AV-{YYYY}-{SEQ:4}")
        uow.credit_notes.add(note)
        issuing = Invoice.draft_new("acct-1", "contact:2", {"currency": "EUR", "lines": [WEB_DAYS],
                                                            "payment_term": {"kind": "net", "days": 30}})
        issuing.start_issue(None, date(2026, 3, 10), "contact:2", OTHER_BUYER, {"name": "Agence Dupont"},
                            "F-{YYYY}-{SEQ:4}")
        uow.invoices.add(issuing)
        uow.commit()
    outcome = louise.erase("contact:2")
    assert f"invoice:{issuing.id}" in {item.item for item in outcome.retained}
    assert billing.bus.handle(c.IssueInvoice("acct-1", issuing.id)).stage == "issued"  # its number is not stranded
    assert billing.bus.handle(c.FinishCreditNote("acct-1", note.id)).status == "abandoned"


def test_the_export_holds_every_document_of_the_person_flat_and_whole(louise):
    exchange = KeptParts()
    part = louise.billing.participant(NOW).export(export_request("contact:1"), exchange)
    written = exchange.parts[part.part_blob_id]
    data = written["data"]
    assert (written["request_id"], written["service"], written["files"]) == ("request:2", "billing", [])
    assert [row["id"] for row in data["invoices"]] == [louise.draft.id, louise.invoice.id, *louise.generated]
    assert [(row["payment_id"], row["amount"], row["reference"]) for row in data["payments"]] == [
        (louise.payment_id, "100", "CB Louise")]
    assert [(row["id"], row["invoice_id"], row["reason"]) for row in data["credit_notes"]] == [
        (louise.note.id, louise.invoice.id, "livre retourné par Louise")]
    assert [(row["id"], row["status"]) for row in data["quotes"]] == [(louise.quote.id, "sent")]
    assert [row["id"] for row in data["recurring_invoices"]] == [louise.recurring.id]
    assert part.item_count == 3 + 1 + 1 + 1 + 1  # invoices, payment, credit note, quote, recurring invoice
    for name in ("invoices", "payments", "credit_notes", "quotes", "recurring_invoices"):  # CSV rows: plain values
        assert all(not isinstance(v, (dict, list)) for row in data[name] for v in row.values()), name
    issued = next(d for d in data["details"]["invoices"] if d["id"] == louise.invoice.id)
    assert issued["buyer"] == BUYER and issued["lines"][1]["description"] == BOOKS["description"]
    assert issued["totals"]["total"] == data["invoices"][1]["total"]
    assert data["details"]["quotes"][0]["notes"] == "Pour Louise"
    assert data["details"]["recurring_invoices"][0]["template"]["notes"] == "Louise, 2e étage"
    about = written["about"]
    assert set(about) >= {"categories", "purposes", "recipients", "retention", "source"}
    assert "L123-22" in about["retention"] and "invoices/<number>.pdf" in about["files"]
    assert louise.others.id not in str(data)


def test_the_export_holds_the_period_each_invoice_bills(louise):
    exchange = KeptParts()
    data = exchange.parts[louise.billing.participant(NOW).export(export_request("contact:1"), exchange).part_blob_id][
        "data"]
    rows = {row["id"]: row for row in data["invoices"]}
    details = {invoice["id"]: invoice for invoice in data["details"]["invoices"]}
    generated = louise.generated[0]  # the recurring invoice's occurrence of 1 March
    assert (rows[generated]["period_start"], rows[generated]["period_end"]) == ("2026-03-01", "2026-03-31")
    assert details[generated]["period"] == {"start": "2026-03-01", "end": "2026-03-31"}
    assert (rows[louise.invoice.id]["period_start"], details[louise.invoice.id]["period"]) == (None, None)


def test_an_export_of_nothing_held_writes_no_part(louise):
    exchange = KeptParts()
    assert louise.billing.participant(NOW).export(export_request("contact:unknown"), exchange) == ExportedPart(None, 0)
    assert exchange.parts == {}


def test_after_erasure_the_export_holds_only_what_the_law_keeps(louise):
    louise.erase()
    exchange = KeptParts()
    part = louise.billing.participant(NOW).export(export_request("contact:1"), exchange)
    data = exchange.parts[part.part_blob_id]["data"]
    assert [row["id"] for row in data["invoices"]] == [louise.invoice.id]
    assert data["invoices"][0]["retain_until"] == "2036-12-31"
    assert data["quotes"] == [] and data["recurring_invoices"] == []
    with pytest.raises(SubjectErased):
        louise.billing.cipher.opening_key(f"billing-document:{louise.draft.id}")


def test_the_retention_ends_on_the_first_day_after_the_date_kept_until(louise):
    louise.erase()
    billing = louise.billing

    def round_at(text):
        return retention.end_expired_retentions(billing.expired_retentions, AlwaysHeld(), billing.unit_of_work,
                                                billing.store, billing.unit_of_work().codec, billing.cipher,
                                                clock_at(text))

    assert round_at("2036-12-31T23:59") == 0
    assert not louise.key_erased(louise.invoice.id)
    assert round_at("2037-01-01T00:00") == 1
    assert louise.key_erased(louise.invoice.id)  # the invoice and its credit note, unreadable
    last = louise.billing.store.load(louise.invoice.id)[-1]
    assert (last.event_type, last.payload) == ("InvoiceRetentionEnded", {"ended_on": "2037-01-01"})
    with billing.unit_of_work() as uow:
        assert uow.invoices.find("acct-1", louise.invoice.id) is None
        assert uow.credit_notes.find("acct-1", louise.note.id) is None
    assert round_at("2037-01-02T00:00") == 0  # once
    assert not louise.key_erased(louise.others.id)  # never restricted: never shredded by the job


def test_the_retention_job_trusts_the_invoice_not_a_stale_list_and_works_only_under_its_lease(louise):
    louise.erase()
    billing = louise.billing
    stale = lambda day: [("acct-1", louise.invoice.id), ("acct-1", louise.others.id)]  # noqa: E731
    codec = billing.unit_of_work().codec
    assert retention.end_expired_retentions(stale, AlwaysHeld(), billing.unit_of_work, billing.store, codec,
                                            billing.cipher, clock_at("2030-01-01T00:00")) == 0
    assert retention.end_expired_retentions(stale, AlwaysHeld(False), billing.unit_of_work, billing.store, codec,
                                            billing.cipher, clock_at("2040-01-01T00:00")) == 0
    assert not louise.key_erased(louise.invoice.id) and not louise.key_erased(louise.others.id)


def test_a_round_stopped_between_the_shred_and_its_event_records_the_event_next_time(louise):
    louise.erase()
    billing = louise.billing
    billing.cipher.shred(f"billing-document:{louise.invoice.id}")  # the round died right after shredding
    assert retention.end_expired_retentions(billing.expired_retentions, AlwaysHeld(), billing.unit_of_work,
                                            billing.store, billing.unit_of_work().codec, billing.cipher,
                                            clock_at("2037-01-01T08:00")) == 1
    assert billing.store.load(louise.invoice.id)[-1].event_type == "InvoiceRetentionEnded"


class AlwaysHeld:
    def __init__(self, held: bool = True) -> None:
        self.held = held

    def acquire_or_renew(self) -> bool:
        return self.held


def test_a_credit_note_issued_a_later_year_keeps_its_invoice_as_long_as_itself():
    """One key seals the invoice and its credit notes: it is kept for the latest of their issue years."""
    now = ["2026-12-31T10:00"]
    billing = BillingOnFakes(lambda: clock_at(now[0])())
    billing.customers.put("acct-1", "contact:1", BUYER)
    invoice = billing.bus.handle(c.IssueInvoice("acct-1", billing.bus.handle(
        c.CreateInvoiceDraft("acct-1", "contact:1", (WEB_DAYS, BOOKS))).id))
    now[0] = "2027-01-04T10:00"
    note = billing.bus.handle(c.IssueCreditNote("acct-1", invoice.id, "retour", ({**BOOKS, "quantity": "1"},)))
    outcome = billing.participant(NOW).erase(erasure("contact:1"))
    assert (invoice.issued_on[:4], note.started.issued_on[:4]) == ("2026", "2027")
    assert [(item.item, item.retain_until) for item in outcome.retained] == [
        (f"invoice:{invoice.id}", "2037-12-31"), (f"credit_note:{note.id}", "2037-12-31")]


def test_a_draft_cannot_be_restricted_and_restricting_again_records_nothing():
    invoice = Invoice.draft_new("acct-1", "contact:1", {"currency": "EUR", "lines": [WEB_DAYS],
                                                        "payment_term": {"kind": "net", "days": 30}})
    with pytest.raises(InvoiceNotEditable):
        invoice.restrict_processing("2036-12-31", LEGAL_BASIS, date(2026, 3, 10))
    invoice.start_issue(None, date(2026, 3, 10), "contact:1", BUYER, {"name": "Agence Dupont"}, "F-{YYYY}-{SEQ:4}")
    invoice.issue("F-2026-0001")
    invoice.restrict_processing("2036-12-31", LEGAL_BASIS, date(2026, 3, 10))
    recorded = len(invoice.pending)
    invoice.restrict_processing("2036-12-31", LEGAL_BASIS, date(2026, 3, 11))
    invoice.restrict_processing("2030-12-31", LEGAL_BASIS, date(2026, 3, 11))  # never shortened
    assert len(invoice.pending) == recorded and invoice.retain_until == "2036-12-31"
    invoice.issue("F-2026-0002")  # finishing an issue is no new processing: still allowed (and changes nothing)
    assert invoice.number == "F-2026-0001"


class DyingKeys:
    """The key vault of a process that dies at its first shred (after the document's deletion was recorded)."""

    def __init__(self, cipher) -> None:
        self.cipher = cipher
        self.died = False

    def shred(self, subject: str) -> bool:
        if not self.died:
            self.died = True
            raise RuntimeError("the process died")
        return self.cipher.shred(subject)

    def is_erased(self, subject: str) -> bool:
        return self.cipher.is_erased(subject)

    def keys_ready(self, subjects):
        return self.cipher.keys_ready(subjects)


def test_an_erasure_interrupted_between_a_deletion_and_its_shred_is_finished_when_done_again(louise):
    billing = louise.billing
    dying = BillingPrivacyParticipant(billing.unit_of_work, ScannedPersonDocuments(billing.store, billing.customers),
                                      DyingKeys(billing.cipher), NOW)
    with pytest.raises(RuntimeError):
        dying.erase(erasure("contact:1"))
    first = louise.recurring.id  # recurring invoices are erased first (they make invoices)
    assert billing.store.load(first)[-1].event_type == "RecurringInvoiceErased"  # recorded, key still there
    assert not louise.key_erased(first)
    outcome = louise.erase()  # the consumer's retry
    assert louise.key_erased(first) and f"billing-document:{first}" in outcome.keys_destroyed
    assert [e.event_type for e in billing.store.load(first)].count("RecurringInvoiceErased") == 1


# --- documents moved to another contact, and documents made while the erasure runs (review of issue 13) ----------

class MovedToPaul:
    """contact:1's draft moved to contact:2 (Paul) and issued, paid with Paul's reference; another moved draft."""

    def __init__(self) -> None:
        self.billing = billing = BillingOnFakes(NOW)
        bus = billing.bus
        billing.customers.put("acct-1", "contact:1", BUYER)
        billing.customers.put("acct-1", "contact:2", OTHER_BUYER)
        issued = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (WEB_DAYS,)))  # the wrong contact first
        bus.handle(c.UpdateInvoiceDraft("acct-1", issued.id, None, {"contact_id": "contact:2"}))
        self.issued = bus.handle(c.IssueInvoice("acct-1", issued.id))
        bus.handle(c.RecordPayment("acct-1", issued.id, "10", "2026-03-10", "card", "virement Paul Durand"))
        self.draft = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (WEB_DAYS,)))
        bus.handle(c.UpdateInvoiceDraft("acct-1", self.draft.id, None, {"contact_id": "contact:2"}))
        self.own = bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (BOOKS,)))  # still contact:1's


def test_an_erasure_leaves_alone_the_documents_moved_to_another_contact():
    paul = MovedToPaul()
    outcome = paul.billing.participant(NOW).erase(erasure("contact:1"))
    assert (outcome.outcome, outcome.keys_destroyed, outcome.retained) == (
        "erased", [f"billing-document:{paul.own.id}"], [])
    with paul.billing.unit_of_work() as uow:
        assert uow.invoices.get("acct-1", paul.draft.id).contact_id == "contact:2"  # Paul's draft, untouched
        assert uow.invoices.get("acct-1", paul.issued.id).retain_until is None
    paul.billing.bus.handle(c.RecordPayment("acct-1", paul.issued.id, "10", "2026-03-10", "card"))  # not restricted


def test_an_export_holds_none_of_the_documents_moved_to_another_contact():
    paul = MovedToPaul()
    exchange = KeptParts()
    part = paul.billing.participant(NOW).export(export_request("contact:1"), exchange)
    data = exchange.parts[part.part_blob_id]["data"]
    assert [row["id"] for row in data["invoices"]] == [paul.own.id]
    assert data["payments"] == [] and "Paul" not in str(data) and "paul@" not in str(data)


class StaleFirstListing(ScannedPersonDocuments):
    """A read model a moment behind: its first list misses the person's newest documents."""

    def __init__(self, store, customers, missed: set) -> None:
        super().__init__(store, customers)
        self.missed, self.listings = missed, 0

    def documents_of(self, account_id, contact_ids, known=frozenset()):
        found = super().documents_of(account_id, contact_ids, known)
        self.listings += 1
        if self.listings > 1:
            return found
        return PersonDocuments(found.contact_ids, [i for i in found.invoices if i not in self.missed],
                               found.credit_notes, [i for i in found.quotes if i not in self.missed],
                               found.recurring_invoices)


def test_documents_a_stale_first_listing_missed_are_erased_too(louise):
    billing = louise.billing
    late = billing.bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1", (WEB_DAYS,)))  # not projected yet
    index = StaleFirstListing(billing.store, billing.customers, {late.id})
    outcome = BillingPrivacyParticipant(billing.unit_of_work, index, billing.cipher, NOW).erase(erasure("contact:1"))
    assert f"billing-document:{late.id}" in outcome.keys_destroyed and louise.key_erased(late.id)
    assert index.listings == 3  # the stale one, the one finding the missed draft, one finding nothing new
    assert outcome.retained == louise.erase(request_id="request:9").retained  # each item once, whatever the rounds
    assert len({item.item for item in outcome.retained}) == len(outcome.retained) == 2


def test_the_scheduler_makes_nothing_for_a_person_once_their_erasure_has_begun():
    billing = BillingOnFakes(clock_at("2026-03-10T10:00"))
    billing.customers.put("acct-1", "contact:1", BUYER)
    plan = billing.bus.handle(r.CreateRecurringInvoice("acct-1", "contact:1", {"anchor": "2026-03-01", "every": 1,
                                                                                "unit": "month"},
                                                       "issue", (WEB_DAYS,), notes="Louise, 2e étage"))
    index = ScannedPersonDocuments(billing.store, billing.customers)
    listed = index.documents_of
    refused = []

    def documents_of(account_id, contact_ids, known=frozenset()):  # a scheduler round while the erasure runs
        found = listed(account_id, contact_ids, known)
        try:
            billing.bus.handle(r.GenerateDueInvoices("acct-1", plan.id))
        except Exception as exc:  # noqa: BLE001 - whatever the refusal, nothing may be issued for the person
            refused.append(exc)
        return found

    index.documents_of = documents_of
    outcome = BillingPrivacyParticipant(billing.unit_of_work, index, billing.cipher, NOW).erase(erasure("contact:1"))
    invoices = {e.aggregate_id for e in billing.store.all_events if e.aggregate_type == "Invoice"}
    assert invoices == set() and refused
    assert outcome.outcome == "erased" and outcome.keys_destroyed == [f"billing-document:{plan.id}"]


def test_an_api_write_racing_the_erasure_does_not_fail_it(louise):
    billing = louise.billing
    append, raced = billing.store.append, []

    def racing_append(envelopes):
        if not raced and envelopes[0].event_type == "InvoiceDraftDeleted":
            raced.append(True)  # the user edits the draft at that moment
            billing.bus.handle(c.UpdateInvoiceDraft("acct-1", envelopes[0].aggregate_id, None, {"notes": "x"}))
        return append(envelopes)

    billing.store.append = racing_append
    outcome = louise.erase()
    assert raced and louise.key_erased(louise.draft.id)
    assert f"billing-document:{louise.draft.id}" in outcome.keys_destroyed


# --- retention across a year boundary: what is finished after the restriction moves the date on -------------------

class NewYearsEve:
    """contact:1's invoice, issued on 31 December 2026 and paid; the clock moved by the test."""

    def __init__(self) -> None:
        self.now = ["2026-12-31T10:00"]
        self.billing = billing = BillingOnFakes(lambda: clock_at(self.now[0])())
        billing.customers.put("acct-1", "contact:1", BUYER)

    def erase(self):
        return self.billing.participant(lambda: clock_at(self.now[0])()).erase(erasure("contact:1"))

    def round_at(self, text):
        billing = self.billing
        return retention.end_expired_retentions(billing.expired_retentions, AlwaysHeld(), billing.unit_of_work,
                                                billing.store, billing.unit_of_work().codec, billing.cipher,
                                                clock_at(text))

    def key_erased(self, invoice_id):
        return self.billing.cipher.is_erased(f"billing-document:{invoice_id}")


def test_an_issue_stopped_on_31_december_and_finished_in_january_keeps_the_key_a_year_more():
    eve = NewYearsEve()
    with eve.billing.unit_of_work() as uow:  # frozen on 31 December, the process died before its number
        issuing = Invoice.draft_new("acct-1", "contact:1", {"currency": "EUR", "lines": [WEB_DAYS],
                                                            "payment_term": {"kind": "net", "days": 30}})
        issuing.start_issue(None, date(2026, 12, 31), "contact:1", BUYER, {"name": "Agence Dupont"},
                            "F-{YYYY}-{SEQ:4}")
        uow.invoices.add(issuing)
        uow.commit()
    assert [item.retain_until for item in eve.erase().retained] == ["2036-12-31"]
    eve.now[0] = "2027-01-04T10:00"  # the sweep finishes it: dated and numbered in 2027
    assert eve.billing.bus.handle(c.IssueInvoice("acct-1", issuing.id)).fiscal_year == 2027

    assert eve.round_at("2037-01-01T00:00") == 0 and not eve.key_erased(issuing.id)
    with eve.billing.unit_of_work() as uow:
        assert uow.invoices.get("acct-1", issuing.id).retain_until == "2037-12-31"
    assert eve.round_at("2038-01-01T00:00") == 1 and eve.key_erased(issuing.id)


def test_a_credit_note_numbered_after_the_restriction_is_restricted_and_keeps_the_key_as_long():
    eve = NewYearsEve()
    invoice = eve.billing.bus.handle(c.IssueInvoice("acct-1", eve.billing.bus.handle(
        c.CreateInvoiceDraft("acct-1", "contact:1", (WEB_DAYS, BOOKS))).id))
    with eve.billing.unit_of_work() as uow:  # credited on 31 December, the process died before its number
        credited = uow.invoices.get("acct-1", invoice.id)
        note = CreditNote.start(credited, ({**BOOKS, "quantity": "1"},), "retour", date(2026, 12, 31),
                                {"name": "Agence Dupont"}, "AV-{YYYY}-{SEQ:4}")
        uow.credit_notes.add(note)
        credited.credit(note.id, note.totals, note.issued_on, note.lines)
        uow.commit()
    assert [item.item for item in eve.erase().retained] == [f"invoice:{invoice.id}"]  # the note is not issued yet
    eve.now[0] = "2027-01-04T10:00"
    finished = eve.billing.bus.handle(c.FinishCreditNote("acct-1", note.id))
    assert (finished.status, finished.fiscal_year) == ("issued", 2027)

    assert eve.round_at("2037-01-01T00:00") == 0 and not eve.key_erased(invoice.id)
    with eve.billing.unit_of_work() as uow:
        assert uow.invoices.get("acct-1", invoice.id).retain_until == "2037-12-31"
        assert uow.credit_notes.get("acct-1", note.id).retain_until == "2037-12-31"
    assert eve.round_at("2038-01-01T00:00") == 1 and eve.key_erased(invoice.id)


# --- a restricted document is served with what the accounting record needs only ----------------------------------

def test_a_restricted_invoice_is_served_and_exported_without_emails_notes_or_payment_references():
    from billing.entrypoints.representation import credit_note_from_aggregate, invoice_from_aggregate
    billing = BillingOnFakes(NOW)
    billing.customers.put("acct-1", "contact:1", BUYER)
    bus = billing.bus
    invoice = bus.handle(c.IssueInvoice("acct-1", bus.handle(c.CreateInvoiceDraft(
        "acct-1", "contact:1", (WEB_DAYS, BOOKS), notes="Sonner chez Louise, 2e étage")).id))
    bus.handle(c.RecordPayment("acct-1", invoice.id, "100", "2026-03-10", "card", "virement L. Martin"))
    note = bus.handle(c.IssueCreditNote("acct-1", invoice.id, "retour", ({**BOOKS, "quantity": "1"},)))
    with billing.unit_of_work() as uow:  # before the erasure: whole
        served = invoice_from_aggregate(uow.invoices.get("acct-1", invoice.id), "2026-03-10")
    assert served["buyer"]["emails"] and served["notes"] and served["payments"][0]["reference"]

    billing.participant(NOW).erase(erasure("contact:1"))
    accounting = {name: BUYER[name] for name in ("name", "company", "vat_number", "address")}
    with billing.unit_of_work() as uow:
        served = invoice_from_aggregate(uow.invoices.get("acct-1", invoice.id), "2026-03-10")
        served_note = credit_note_from_aggregate(uow.credit_notes.get("acct-1", note.id))
    assert served["buyer"] == accounting and served["notes"] is None
    assert [p["reference"] for p in served["payments"]] == [None] and served["payments"][0]["amount"] == "100.00"
    assert served["lines"] and served["number"] and served["totals"] == invoice.totals.to_dict()
    assert served_note["buyer"] == accounting and served_note["number"]
    exchange = KeptParts()
    data = exchange.parts[billing.participant(NOW).export(export_request("contact:1"), exchange).part_blob_id]["data"]
    assert [p["reference"] for p in data["payments"]] == [None]
    assert data["details"]["invoices"][0]["buyer"] == accounting and data["details"]["invoices"][0]["notes"] is None
    assert data["details"]["credit_notes"][0]["buyer"] == accounting
    assert "louise@" not in str(data) and "Sonner" not in str(data) and "virement" not in str(data)


def test_an_issue_or_a_credit_note_finished_after_the_restriction_is_restricted_as_soon_as_it_is_numbered():
    eve = NewYearsEve()
    bus = eve.billing.bus
    invoice = bus.handle(c.IssueInvoice("acct-1", bus.handle(c.CreateInvoiceDraft("acct-1", "contact:1",
                                                                                  (WEB_DAYS, BOOKS))).id))
    with eve.billing.unit_of_work() as uow:  # on 31 December: a credit taken, a draft frozen, neither numbered
        credited = uow.invoices.get("acct-1", invoice.id)
        note = CreditNote.start(credited, ({**BOOKS, "quantity": "1"},), "retour", date(2026, 12, 31),
                                {"name": "Agence Dupont"}, "AV-{YYYY}-{SEQ:4}")
        uow.credit_notes.add(note)
        credited.credit(note.id, note.totals, note.issued_on, note.lines)
        issuing = Invoice.draft_new("acct-1", "contact:1", {"currency": "EUR", "lines": [WEB_DAYS],
                                                            "payment_term": {"kind": "net", "days": 30}})
        issuing.start_issue(None, date(2026, 12, 31), "contact:1", BUYER, {"name": "Agence Dupont"},
                            "F-{YYYY}-{SEQ:4}")
        uow.invoices.add(issuing)
        uow.commit()
    eve.erase()
    eve.now[0] = "2027-01-04T10:00"
    bus.handle(c.FinishCreditNote("acct-1", note.id))
    bus.handle(c.IssueInvoice("acct-1", issuing.id))
    with eve.billing.unit_of_work() as uow:  # read only (and served without emails) from now, not in 10 years
        finished = uow.credit_notes.get("acct-1", note.id)
        assert (finished.number, finished.retain_until) == ("AV-2027-0001", "2037-12-31")
        assert uow.invoices.get("acct-1", invoice.id).retain_until == "2037-12-31"
        assert uow.invoices.get("acct-1", issuing.id).retain_until == "2037-12-31"
        restricted = [e for e in eve.billing.store.load(note.id) if e.event_type == "CreditNoteProcessingRestricted"]
        assert restricted[-1].payload["restricted_on"] == "2027-01-04"


class LoadsCounted:
    """The event store's reads of single histories (`load`) outside its bulk reads (`load_each`) of the person's
    documents."""

    def __init__(self, store) -> None:
        self.single, self.bulk, self._in_bulk = [], [], False
        load, load_each = store.load, store.load_each

        def counted_load(aggregate_id):
            if not self._in_bulk:
                self.single.append(aggregate_id)
            return load(aggregate_id)

        def counted_load_each(aggregate_ids):
            self._in_bulk = True
            try:
                self.bulk.append(list(aggregate_ids))
                return load_each(aggregate_ids)
            finally:
                self._in_bulk = False

        store.load, store.load_each = counted_load, counted_load_each


def test_an_export_and_an_erasure_read_the_person_s_documents_in_bulk_not_one_history_after_the_other(louise):
    """Issue 13: a round trip to the event store per invoice, quote and credit note made billing the slowest to
    answer; each kind is read with one bulk read (load_each: overlapping indexed equalities on the real store)."""
    documents = {louise.draft.id, louise.quote.id, louise.invoice.id, louise.note.id, louise.recurring.id,
                 louise.generated[0]}
    loads = LoadsCounted(louise.billing.store)
    louise.billing.participant(NOW).export(export_request("contact:1"), KeptParts())
    assert documents.isdisjoint(loads.single), loads.single
    assert documents <= {document_id for ids in loads.bulk for document_id in ids}
    loads.single.clear()
    louise.erase()
    assert documents.isdisjoint(loads.single), loads.single
