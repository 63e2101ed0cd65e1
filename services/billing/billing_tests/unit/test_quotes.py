"""The Quote aggregate: drafts, sending, the customer's answer, expiry in the account's time zone, conversion."""
from datetime import date, datetime, timezone

import pytest

from crm_platform.errors import InvalidInput

from billing.domain.quote_events import QuoteAccepted, QuoteConverted, QuoteDeclined, QuoteDraftUpdated, QuoteSent
from billing.domain.quotes import (DRAFT_FIELDS, QuoteExpired, QuoteNotAllowed, QuoteNotFound, StaleQuoteRevision, Quote,
                                   account_day)

from .fakes import SELLER
from .test_invoices import BOOKS, BUYER, WEB_DAYS

PARIS = "Europe/Paris"
SENT_ON = date(2026, 3, 11)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def draft(lines=(WEB_DAYS, BOOKS), **content) -> Quote:
    return Quote.draft_new("acct-1", "contact:1", {"currency": "EUR", "lines": list(lines), **content})


def sent(valid_until="2026-03-31", **content) -> Quote:
    quote = draft(valid_until=valid_until, **content)
    quote.start_send(None, SENT_ON, "contact:1", BUYER, SELLER, "D-{YYYY}-{SEQ:4}")
    quote.send("D-2026-0001")
    return quote


def test_a_draft_holds_the_checked_lines_and_computes_its_totals():
    quote = draft(notes="Merci de votre confiance")
    assert quote.stage == "draft" and quote.number is None
    assert quote.draft["lines"][0]["unit_price"] == "450"  # money_text keeps the value, not its zeros
    # 3 x 450.00 at 20 % and 2 x 24.99 at 5.5 %: 1350.00 + 270.00 VAT, 49.98 + 2.75 VAT
    assert (str(quote.totals.net_total), str(quote.totals.tax_total), str(quote.totals.total)) == \
        ("1399.98", "272.75", "1672.73")


def test_a_draft_refuses_a_float_price_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        draft(lines=[{**WEB_DAYS, "unit_price": 450.5}])
    assert "lines.0.unit_price" in refused.value.errors


def test_a_bad_validity_date_is_refused_naming_it():
    with pytest.raises(InvalidInput) as refused:
        draft(valid_until="31/03/2026")
    assert list(refused.value.errors) == ["valid_until"]


def test_a_validity_date_is_written_yyyy_mm_dd_and_a_creation_sent_with_a_week_date_before_is_known_again():
    with pytest.raises(InvalidInput) as refused:
        draft(valid_until="2026-W14-2")  # 31 March 2026 to Python
    assert list(refused.value.errors) == ["valid_until"]
    before = draft(valid_until="2026-03-31")  # what older code stored of valid_until "2026-W14-2"
    before.check_created_with({"contact:1"}, {"currency": "EUR", "lines": [WEB_DAYS, BOOKS],
                                              "valid_until": "2026-W14-2"})  # its retry: that quote, not a 422
    with pytest.raises(InvalidInput) as refused:  # an edit is the client's input too
        before.update_draft(1, {"valid_until": "2026-W14-2"})
    assert list(refused.value.errors) == ["valid_until"] and before.draft["valid_until"] == "2026-03-31"


def test_editing_a_draft_records_the_whole_draft_and_nothing_when_nothing_changes():
    quote = draft()
    quote.update_draft(1, {"lines": [WEB_DAYS], "valid_until": "2026-04-30"})
    assert isinstance(quote.pending[-1], QuoteDraftUpdated) and quote.pending[-1].draft(DRAFT_FIELDS)["lines"] == [quote.draft["lines"][0]]
    quote.update_draft(2, {"valid_until": "2026-04-30"})
    assert quote.revision == 2


def test_editing_from_a_stale_revision_or_an_unknown_field_is_refused():
    quote = draft()
    with pytest.raises(StaleQuoteRevision):
        quote.update_draft(7, {"notes": "x"})
    with pytest.raises(InvalidInput) as refused:
        quote.update_draft(1, {"number": "D-1"})
    assert "number" in refused.value.errors


def test_a_deleted_draft_is_gone():
    quote = draft()
    quote.delete_draft(1)
    assert quote.gone
    with pytest.raises(QuoteNotFound):
        quote.update_draft(None, {"notes": "x"})


def test_sending_freezes_buyer_totals_and_validity_and_records_the_number():
    quote = sent()
    event = quote.pending[-1]
    assert isinstance(event, QuoteSent)
    assert (event.number, event.sent_on, event.valid_until, event.total) == \
        ("D-2026-0001", "2026-03-11", "2026-03-31", "1672.73")
    assert quote.buyer == BUYER and quote.seller == SELLER and quote.status(utc("2026-03-12T10:00"), PARIS) == "sent"
    with pytest.raises(QuoteNotAllowed):
        quote.update_draft(None, {"notes": "after sending"})
    with pytest.raises(QuoteNotAllowed):
        quote.delete_draft(None)


def test_sending_again_changes_nothing():
    quote = sent()
    quote.start_send(None, date(2026, 3, 20), "contact:1", {}, {}, "X-{YYYY}-{SEQ}")
    quote.send("D-2026-0099")
    assert quote.number == "D-2026-0001" and quote.revision == 3


def test_a_quote_without_validity_is_valid_30_days_from_sending():
    quote = draft()
    quote.start_send(None, SENT_ON, "contact:1", BUYER, SELLER, "D-{YYYY}-{SEQ:4}")
    assert quote.valid_until == "2026-04-10"


def test_a_quote_already_expired_or_without_lines_is_not_sent():
    with pytest.raises(InvalidInput) as refused:
        draft(valid_until="2026-03-10").start_send(None, SENT_ON, "contact:1", BUYER, SELLER, "D-{YYYY}-{SEQ:4}")
    assert "valid_until" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        draft(lines=()).start_send(None, SENT_ON, "contact:1", BUYER, SELLER, "D-{YYYY}-{SEQ:4}")
    assert "lines" in refused.value.errors


@pytest.mark.parametrize("now, expired", [
    ("2026-03-31T21:59:59", False),  # 23:59:59 on the 31st in Paris (summer time since the 29th): still valid
    ("2026-03-31T22:00:00", True),  # midnight in Paris: the 1st of April, past the end of the expiry day
])
def test_a_quote_is_valid_through_the_end_of_its_expiry_day_in_the_accounts_time_zone(now, expired):
    quote = sent(valid_until="2026-03-31")
    assert quote.is_expired(utc(now), PARIS) is expired
    assert quote.status(utc(now), PARIS) == ("expired" if expired else "sent")


def test_the_same_instant_is_another_day_in_another_time_zone():
    quote = sent(valid_until="2026-03-31")
    assert not quote.is_expired(utc("2026-04-01T03:00"), "America/New_York")  # still the 31st, 23:00 there
    assert quote.is_expired(utc("2026-04-01T03:00"), PARIS)


def test_accepting_records_the_accounts_day_once():
    quote = sent()
    quote.accept(3, utc("2026-03-20T23:30"), PARIS)
    quote.accept(None, utc("2026-03-21T09:00"), PARIS)
    assert [type(e) for e in quote.pending[-1:]] == [QuoteAccepted] and quote.revision == 4
    assert quote.pending[-1].accepted_on == "2026-03-21" and quote.status(utc("2026-06-01T00:00"), PARIS) == "accepted"


def test_an_expired_quote_cannot_be_accepted():
    quote = sent(valid_until="2026-03-31")
    with pytest.raises(QuoteExpired):
        quote.accept(None, utc("2026-03-31T22:00"), PARIS)
    assert quote.stage == "sent"


def test_a_draft_cannot_be_accepted_declined_or_converted():
    quote = draft()
    for step in (lambda: quote.accept(None, utc("2026-03-12T00:00"), PARIS),
                 lambda: quote.decline(None, utc("2026-03-12T00:00"), PARIS),
                 lambda: quote.convert("invoice:1", utc("2026-03-12T00:00"), PARIS)):
        with pytest.raises(QuoteNotAllowed):
            step()


def test_declining_keeps_its_reason_and_closes_the_quote():
    quote = sent()
    quote.decline(None, utc("2026-04-02T08:00"), PARIS, "  Trop cher  ")  # an expired quote may be declined
    assert isinstance(quote.pending[-1], QuoteDeclined) and quote.pending[-1].reason == "Trop cher"
    quote.decline(None, utc("2026-04-03T08:00"), PARIS, "again")
    assert quote.revision == 4
    with pytest.raises(QuoteNotAllowed):
        quote.accept(None, utc("2026-03-20T08:00"), PARIS)
    with pytest.raises(QuoteNotAllowed):
        quote.convert("invoice:1", utc("2026-03-20T08:00"), PARIS)


def test_an_accepted_quote_cannot_be_declined():
    quote = sent()
    quote.accept(None, utc("2026-03-20T08:00"), PARIS)
    with pytest.raises(QuoteNotAllowed):
        quote.decline(None, utc("2026-03-20T09:00"), PARIS)


@pytest.mark.parametrize("answer", ["accepted", "expired", "sent"])
def test_staff_may_convert_a_sent_expired_or_accepted_quote_once(answer):
    quote = sent(valid_until="2026-03-31")
    now = utc("2026-04-15T08:00") if answer == "expired" else utc("2026-03-20T08:00")
    if answer == "accepted":
        quote.accept(None, now, PARIS)
    quote.convert("invoice:quote:1", now, PARIS)
    quote.convert("invoice:quote:1", now, PARIS)  # idempotent: the same invoice, nothing recorded
    assert [type(e) for e in quote.pending].count(QuoteConverted) == 1
    assert quote.status(now, PARIS) == "converted" and quote.invoice_id == "invoice:quote:1"
    with pytest.raises(QuoteNotAllowed):
        quote.convert("invoice:other", now, PARIS)


def test_the_invoice_content_carries_the_lines_and_the_accounts_invoice_terms():
    quote = sent(discount={"kind": "percent", "value": "10"}, notes="Projet site")
    content = quote.invoice_content({"kind": "net", "days": 30}, "Pénalités de retard")
    assert content["lines"] == quote.draft["lines"] and content["discount"] == {"kind": "percent", "value": "10"}
    assert (content["currency"], content["notes"], content["legal_terms"]) == ("EUR", "Projet site",
                                                                              "Pénalités de retard")


def test_replaying_its_events_gives_the_same_quote():
    quote = sent()
    quote.accept(None, utc("2026-03-20T08:00"), PARIS)
    replayed = Quote.from_history(quote.id, "acct-1", quote.pending)
    assert (replayed.stage, replayed.number, replayed.valid_until, replayed.totals, replayed.buyer) == \
        (quote.stage, quote.number, quote.valid_until, quote.totals, quote.buyer)


def test_the_accounts_day_needs_an_aware_instant():
    assert account_day(utc("2026-03-10T23:30"), PARIS) == date(2026, 3, 11)
    with pytest.raises(ValueError):
        account_day(datetime(2026, 3, 10, 23, 30), PARIS)
