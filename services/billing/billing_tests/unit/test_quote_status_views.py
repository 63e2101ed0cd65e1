"""The quotes read model says the same status as the aggregate (expired derived from the account's day), and its
status filters select exactly that status."""
from datetime import date, datetime, timezone

import pytest

from billing.adapters.quotes_projection import quote_fields
from billing.document_views import QUOTE_STATUSES, quote_status, quote_status_filter
from billing.domain.quotes import Quote, account_day

from .fakes import SELLER
from .test_invoice_status_views import LINE, matches

PARIS = "Europe/Paris"


def quote_in(state: str) -> Quote:
    quote = Quote.draft_new("acct-1", "contact:1", {"currency": "EUR", "lines": [LINE], "valid_until": "2026-03-31"})
    if state == "draft":
        return quote
    quote.start_send(None, date(2026, 3, 2), "contact:1", {"name": "Louise"}, SELLER, "D-{YYYY}-{SEQ:4}")
    if state == "sending":
        return quote
    quote.send("D-2026-0001")
    now = datetime(2026, 3, 5, tzinfo=timezone.utc)
    if state == "accepted":
        quote.accept(None, now, PARIS)
    elif state == "declined":
        quote.decline(None, now, PARIS)
    elif state == "converted":
        quote.convert("invoice:quote:1", now, PARIS)
    return quote


@pytest.mark.parametrize("state", ["draft", "sending", "sent", "accepted", "declined", "converted"])
@pytest.mark.parametrize("now", ["2026-03-31T21:59", "2026-03-31T22:00"])  # 23:59 and 00:00 on 1 April in Paris
def test_the_read_model_and_the_aggregate_agree_on_the_status_and_one_filter_selects_it(state, now):
    quote = quote_in(state)
    instant = datetime.fromisoformat(now).replace(tzinfo=timezone.utc)
    today = account_day(instant, PARIS).isoformat()
    doc = quote_fields(quote)
    status = quote_status(doc, today)
    assert status == quote.status(instant, PARIS)
    assert [s for s in QUOTE_STATUSES if matches(quote_status_filter(s, today), doc)] == [status]
