"""The quote handlers through the message bus, on the in-memory event store, key store and fake ports."""
import threading
from decimal import Decimal

import pytest

from crm_platform.message_bus import MessageBus
from crm_platform.processing_restrictions import ProcessingRestricted
from crm_platform.testing.in_memory_processing_restrictions import InMemoryProcessingRestrictions

from billing.domain import quote_commands as commands
from billing.domain.account_defaults import AccountDefaults
from billing.domain.errors import CustomerDeleted, UnknownCustomer
from billing.domain.quotes import QuoteExpired, QuoteIdTaken, QuoteNotAllowed, QuoteNotFound
from billing.service_layer import quote_handlers

from .document_fakes import Crash, CrashingEventStore, DocumentsUnitOfWork
from .fakes import SELLER, clock_at
from .test_invoices import BOOKS, BUYER, WEB_DAYS

COMMAND_HANDLERS = {
    commands.CreateQuoteDraft: quote_handlers.create_quote_draft,
    commands.UpdateQuoteDraft: quote_handlers.update_quote_draft,
    commands.DeleteQuoteDraft: quote_handlers.delete_quote_draft,
    commands.SendQuote: quote_handlers.send_quote,
    commands.AcceptQuote: quote_handlers.accept_quote,
    commands.DeclineQuote: quote_handlers.decline_quote,
    commands.ConvertQuote: quote_handlers.convert_quote,
}
# 23:30 UTC on 10 March is 00:30 on 11 March in Paris: the account's day is the 11th.
SENT_AT = clock_at("2026-03-10T23:30")


@pytest.fixture
def uow():
    uow = DocumentsUnitOfWork(CrashingEventStore(), legal_terms="Indemnité forfaitaire pour frais de recouvrement : 40 €.")
    uow.customers.put("acct-1", "contact:1", BUYER)
    return uow


def bus_at(uow, instant: str) -> MessageBus:
    return MessageBus.build(COMMAND_HANDLERS, {}, {"uow": uow, "clock": clock_at(instant)})


@pytest.fixture
def bus(uow):
    return MessageBus.build(COMMAND_HANDLERS, {}, {"uow": uow, "clock": SENT_AT})


def new_quote(bus, **fields):
    return bus.handle(commands.CreateQuoteDraft("acct-1", "contact:1", **{"lines": (WEB_DAYS, BOOKS), **fields}))


def sent_quote(bus, **fields):
    return bus.handle(commands.SendQuote("acct-1", new_quote(bus, **fields).id))


def events(uow, event_type):
    return [e for e in uow.store.all_events if e.event_type == event_type]


def test_quote_sent_accepted_and_converted_to_a_draft_invoice_with_the_same_totals(bus, uow):
    quote = new_quote(bus, valid_until="2026-03-31", notes="Refonte du site")
    assert (quote.currency, quote.valid_until, quote.draft["legal_terms"]) == ("EUR", "2026-03-31", "")
    quote = bus.handle(commands.SendQuote("acct-1", quote.id, revision=1))
    assert (quote.number, quote.sent_on, quote.buyer) == ("D-2026-0001", "2026-03-11", BUYER)
    quote = bus_at(uow, "2026-03-31T21:59:59").handle(commands.AcceptQuote("acct-1", quote.id))  # 23:59:59 in Paris
    assert quote.stage == "accepted" and quote.decided_on == "2026-03-31"
    quote = bus.handle(commands.ConvertQuote("acct-1", quote.id))
    with uow:
        invoice = uow.invoices.get("acct-1", quote.invoice_id)
    assert invoice.stage == "draft" and invoice.contact_id == "contact:1" and invoice.draft["notes"] == "Refonte du site"
    assert invoice.draft["lines"] == quote.draft["lines"] and invoice.totals == quote.totals
    assert invoice.totals.total == Decimal("1672.73")
    assert invoice.draft["payment_term"] == {"kind": "net", "days": 30} and invoice.draft["legal_terms"].endswith("40 €.")
    assert [e.event_type for e in uow.store.all_events] == [
        "QuoteDrafted", "QuoteSendStarted", "QuoteSent", "QuoteAccepted", "InvoiceDrafted", "QuoteConverted"]


def test_converting_twice_names_the_same_invoice_and_makes_one(bus, uow):
    quote = sent_quote(bus)
    first = bus.handle(commands.ConvertQuote("acct-1", quote.id))
    again = bus.handle(commands.ConvertQuote("acct-1", quote.id))
    assert first.invoice_id == again.invoice_id == quote_handlers.invoice_id_for("acct-1", quote.id)
    assert len(events(uow, "InvoiceDrafted")) == 1 and len(events(uow, "QuoteConverted")) == 1


def test_a_quote_of_a_restricted_customer_is_not_converted_into_an_invoice_until_lifted(bus, uow):
    quote, converted = sent_quote(bus), sent_quote(bus)
    bus.handle(commands.ConvertQuote("acct-1", converted.id))
    restrictions = InMemoryProcessingRestrictions()
    restrictions.restrict("acct-1", ["contact:1"], "privacy-request:r18")  # Art. 18: kept, not processed
    restricted = MessageBus.build(COMMAND_HANDLERS, {}, {"uow": uow, "clock": SENT_AT, "restrictions": restrictions})
    with pytest.raises(ProcessingRestricted):
        restricted.handle(commands.ConvertQuote("acct-1", quote.id))
    assert len(events(uow, "InvoiceDrafted")) == 1  # the one converted before
    assert restricted.handle(commands.ConvertQuote("acct-1", converted.id)).stage == "converted"  # as it is
    restrictions.lift("acct-1", ["contact:1"], "privacy-request:r18")
    assert restricted.handle(commands.ConvertQuote("acct-1", quote.id)).stage == "converted"


def test_a_conversion_interrupted_after_the_invoice_is_finished_with_that_invoice(bus, uow):
    quote = sent_quote(bus)
    uow.store.crash_before = {uow.store.appends + 2}  # the invoice is written, the process dies before QuoteConverted
    with pytest.raises(Crash):
        bus.handle(commands.ConvertQuote("acct-1", quote.id))
    quote = bus.handle(commands.ConvertQuote("acct-1", quote.id))
    assert quote.stage == "converted" and len(events(uow, "InvoiceDrafted")) == 1


def test_staff_may_convert_an_expired_quote_the_customer_may_not_accept_it(bus, uow):
    quote = sent_quote(bus, valid_until="2026-03-31")
    later = bus_at(uow, "2026-03-31T22:00")  # midnight in Paris: the 1st of April
    with pytest.raises(QuoteExpired) as refused:
        later.handle(commands.AcceptQuote("acct-1", quote.id))
    assert refused.value.status == 409
    assert later.handle(commands.ConvertQuote("acct-1", quote.id)).stage == "converted"


def test_a_declined_quote_is_not_converted_and_no_invoice_is_made(bus, uow):
    quote = sent_quote(bus)
    declined = bus.handle(commands.DeclineQuote("acct-1", quote.id, reason="Budget réduit"))
    assert declined.stage == "declined" and "Budget" not in str(events(uow, "QuoteDeclined")[0].payload)
    with pytest.raises(QuoteNotAllowed):
        bus.handle(commands.ConvertQuote("acct-1", quote.id))
    assert events(uow, "InvoiceDrafted") == []


def test_a_draft_quote_is_not_converted(bus, uow):
    quote = new_quote(bus)
    with pytest.raises(QuoteNotAllowed):
        bus.handle(commands.ConvertQuote("acct-1", quote.id))
    assert events(uow, "InvoiceDrafted") == []


def test_quotes_have_their_own_gapless_series(bus, uow):
    numbers = [sent_quote(bus).number for _ in range(3)]
    assert numbers == ["D-2026-0001", "D-2026-0002", "D-2026-0003"]
    assert uow.ledger.seqs_of("acct-1", "quotes", 2026).keys() == {1, 2, 3}
    assert uow.ledger.seqs_of("acct-1", "invoices", 2026) == {}


def test_sending_again_after_a_crash_past_the_reservation_gives_the_same_number(bus, uow):
    first, second = new_quote(bus), new_quote(bus)
    uow.store.crash_before = {uow.store.appends + 2}  # frozen and numbered; dies before QuoteSent
    with pytest.raises(Crash):
        bus.handle(commands.SendQuote("acct-1", first.id))
    with pytest.raises(QuoteNotAllowed):  # frozen: a reserved number never loses its quote
        bus.handle(commands.DeleteQuoteDraft("acct-1", first.id))
    assert bus.handle(commands.SendQuote("acct-1", second.id)).number == "D-2026-0002"
    assert bus.handle(commands.SendQuote("acct-1", first.id)).number == "D-2026-0001"  # a retry, or the sweep
    assert [e.payload["number"] for e in events(uow, "QuoteSent")] == ["D-2026-0002", "D-2026-0001"]


def test_concurrent_sends_number_every_quote_once_without_a_gap(uow):
    drafts = [quote_handlers.create_quote_draft(commands.CreateQuoteDraft("acct-1", "contact:1", (WEB_DAYS,)), uow)
              for _ in range(10)]
    numbers, errors = [], []

    def send(quote_id):
        try:
            numbers.append(quote_handlers.send_quote(commands.SendQuote("acct-1", quote_id), uow.sharing_ports(),
                                                     SENT_AT).number)
        except Exception as exc:  # collected, so that the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(draft.id,)) for draft in drafts * 2]  # each one twice
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(set(numbers)) == [f"D-2026-{n:04d}" for n in range(1, 11)] and len(events(uow, "QuoteSent")) == 10


def test_a_draft_follows_its_contact_into_a_merge_until_sent(bus, uow):
    quote = new_quote(bus)
    uow.customers.put("acct-1", "contact:9", {**BUYER, "name": "Louise Martin-Durand"})
    uow.customers.merge("acct-1", "contact:1", into="contact:9")
    quote = bus.handle(commands.SendQuote("acct-1", quote.id))
    assert quote.contact_id == "contact:9" and quote.buyer["name"] == "Louise Martin-Durand"


def test_a_quote_needs_a_live_contact_of_the_account(bus, uow):
    with pytest.raises(UnknownCustomer):
        bus.handle(commands.CreateQuoteDraft("acct-2", "contact:1"))
    quote = new_quote(bus)
    uow.customers.put("acct-1", "contact:1", BUYER, deleted=True)
    with pytest.raises(CustomerDeleted) as refused:
        bus.handle(commands.SendQuote("acct-1", quote.id))
    assert "contact_id" in refused.value.errors


def test_editing_and_deleting_drafts(bus, uow):
    quote = new_quote(bus)
    uow.customers.put("acct-1", "contact:2", BUYER)
    quote = bus.handle(commands.UpdateQuoteDraft("acct-1", quote.id, 1, {"contact_id": "contact:2",
                                                                          "valid_until": "2026-06-30"}))
    assert (quote.contact_id, quote.valid_until, quote.revision) == ("contact:2", "2026-06-30", 2)
    bus.handle(commands.DeleteQuoteDraft("acct-1", quote.id, revision=2))
    with pytest.raises(QuoteNotFound):
        bus.handle(commands.SendQuote("acct-1", quote.id))


def test_another_accounts_quote_is_not_found(bus):
    quote = new_quote(bus)
    with pytest.raises(QuoteNotFound):
        bus.handle(commands.SendQuote("acct-2", quote.id))


def test_a_quote_created_again_with_its_id_is_created_once(bus, uow):
    first = new_quote(bus, quote_id="quote:retry-1")
    again = new_quote(bus, quote_id="quote:retry-1")
    assert first.id == again.id and len(events(uow, "QuoteDrafted")) == 1


def test_a_quote_id_sent_again_with_other_content_is_refused_and_a_deleted_ones_is_unknown(bus, uow):
    first = new_quote(bus, quote_id="quote:retry-2")
    bus.handle(commands.UpdateQuoteDraft("acct-1", first.id, None, {"notes": "edited since"}))
    assert new_quote(bus, quote_id="quote:retry-2").draft["notes"] == "edited since"  # the retry: as it now is
    with pytest.raises(QuoteIdTaken):
        new_quote(bus, quote_id="quote:retry-2", lines=(BOOKS,))
    bus.handle(commands.DeleteQuoteDraft("acct-1", first.id))
    with pytest.raises(QuoteNotFound):
        new_quote(bus, quote_id="quote:retry-2")
    assert len(events(uow, "QuoteDrafted")) == 1


def test_what_is_stored_has_money_as_strings_and_personal_data_sealed(bus, uow):
    described = {**WEB_DAYS, "description": "Refonte du site de Louise"}
    quote = sent_quote(bus, notes="Appeler Louise avant de commencer", lines=(described, BOOKS))
    bus.handle(commands.DeclineQuote("acct-1", quote.id, reason="Louise a choisi un autre prestataire"))
    for envelope in uow.store.all_events:
        text = str(envelope.payload)
        assert "Louise" not in text and "Martin" not in text and "Decimal" not in text
        assert not any(isinstance(value, float) for value in envelope.payload.values())
    subjects = {e.payload["personal"]["subject"] for e in uow.store.all_events if "personal" in e.payload}
    assert subjects == {f"billing-document:{quote.id}"}  # one key per document, as an invoice's
    assert events(uow, "QuoteSent")[0].payload == {
        "contact_id": "contact:1", "number": "D-2026-0001", "sent_on": "2026-03-11", "valid_until": "2026-04-10",
        "currency": "EUR", "total": "1672.73"}
    with uow:  # and every event reads back
        stored = uow.quotes.get("acct-1", quote.id)
    assert stored.buyer == BUYER and stored.draft["lines"][0]["description"] == "Refonte du site de Louise"


def test_quotes_are_numbered_with_the_accounts_quote_pattern(bus, uow):
    uow.account_defaults.defaults = AccountDefaults(seller=SELLER, quote_pattern="DEV{YY}-{SEQ:3}")
    assert sent_quote(bus).number == "DEV26-001"


def test_the_invoice_a_quote_converts_to_is_named_with_the_account():
    # a quote's id is no secret: another account that knows it must not be able to name (and take) its invoice's id
    assert quote_handlers.invoice_id_for("acct-1", "quote:q1") != quote_handlers.invoice_id_for("acct-2", "quote:q1")
    assert "quote:q1" not in quote_handlers.invoice_id_for("acct-1", "quote:q1")
