"""Gapless numbering on the real database: concurrent issuers get 1..N, each once; a retry gets its number back."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from billing.adapters.number_series import MongoReservationLedger
from billing.domain.number_series import GaplessNumberSeries, SeriesKey

from ..reservation_ledger_contract import ReservationLedgerContract

THREADS = 8


@pytest.fixture
def ledger(container):
    ledger = MongoReservationLedger(container.db["number_reservations"], container.db["number_hints"])
    ledger.ensure_indexes()
    return ledger


class TestMongoReservationLedger(ReservationLedgerContract):
    """The fake the unit tests use and the MongoDB ledger behave alike (the `ledger` fixture above)."""


def test_eight_threads_issuing_at_once_get_every_number_from_1_once(ledger):
    documents = [f"invoice:{n}" for n in range(THREADS * 6)]
    start = threading.Barrier(THREADS)

    def issue(share: list[str]) -> list[tuple[str, int]]:
        series = GaplessNumberSeries(ledger)  # one per thread, as each request has its own
        start.wait()
        return [(document, series.reserve("acct-1", "invoices", 2026, document)) for document in share]

    with ThreadPoolExecutor(THREADS) as pool:
        shares = [documents[i::THREADS] for i in range(THREADS)]
        issued = [pair for result in pool.map(issue, shares) for pair in result]
    numbers = sorted(number for _, number in issued)
    assert numbers == list(range(1, len(documents) + 1))
    key = SeriesKey("acct-1", "invoices", 2026)
    assert [(r["seq"], r["document_id"]) for r in ledger.reservations(key, limit=1000)] == sorted(
        (number, document) for document, number in issued)


def test_the_same_document_issued_again_or_at_once_gets_the_same_number(ledger):
    series = GaplessNumberSeries(ledger)
    assert series.reserve("acct-1", "invoices", 2026, "invoice:a") == 1
    start = threading.Barrier(THREADS)

    def issue_b() -> int:
        start.wait()
        return GaplessNumberSeries(ledger).reserve("acct-1", "invoices", 2026, "invoice:b")

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda _: issue_b(), range(THREADS)))
    assert answers == [2] * THREADS
    assert series.reserve("acct-1", "invoices", 2026, "invoice:a") == 1
    assert series.reserve("acct-1", "invoices", 2026, "invoice:c") == 3


def test_each_account_series_and_year_counts_on_its_own(ledger):
    series = GaplessNumberSeries(ledger)
    assert [series.reserve(account, kind, year, f"{account}:{kind}:{year}:doc")
            for account, kind, year in [("acct-1", "invoices", 2026), ("acct-1", "credit_notes", 2026),
                                        ("acct-1", "invoices", 2027), ("acct-2", "invoices", 2026)]] == [1, 1, 1, 1]
    assert series.reserve("acct-1", "invoices", 2026, "another") == 2


def test_a_hint_left_behind_is_only_a_hint(ledger, container):
    series = GaplessNumberSeries(ledger)
    series.reserve("acct-1", "quotes", 2026, "quote:1")
    series.reserve("acct-1", "quotes", 2026, "quote:2")
    container.db["number_hints"].update_one({"_id": SeriesKey("acct-1", "quotes", 2026).hint_id()},
                                            {"$set": {"next_seq": 1}})  # as if the $max after a reservation was lost
    assert series.reserve("acct-1", "quotes", 2026, "quote:3") == 3
