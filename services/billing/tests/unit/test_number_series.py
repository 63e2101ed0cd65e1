"""The gapless reservation protocol on an in-memory ledger: unique, gapless, the same number on a retry."""
import random
import threading
import time

import pytest

from billing.domain.number_series import GaplessNumberSeries, SeriesKey

from ..reservation_ledger_contract import ReservationLedgerContract
from .fakes import InMemoryReservationLedger


class SlowLedger(InMemoryReservationLedger):
    """Yields between steps so that concurrent reservations interleave in many orders."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._random = random.Random(seed)

    def _pause(self) -> None:
        time.sleep(self._random.random() / 5000)

    def claimed_seq(self, key, document_id):
        self._pause()
        return super().claimed_seq(key, document_id)

    def reserve(self, key, seq, document_id):
        self._pause()
        return super().reserve(key, seq, document_id)

    def next_seq_hint(self, key):
        self._pause()
        return super().next_seq_hint(key)


def test_numbers_start_at_one_per_account_series_and_year():
    series = GaplessNumberSeries(InMemoryReservationLedger())
    assert [series.reserve("acct-1", "invoices", 2026, f"invoice:{n}") for n in range(3)] == [1, 2, 3]
    assert series.reserve("acct-1", "invoices", 2027, "invoice:x") == 1
    assert series.reserve("acct-1", "credit_notes", 2026, "credit-note:x") == 1
    assert series.reserve("acct-2", "invoices", 2026, "invoice:y") == 1


def test_a_document_reserved_again_gets_its_number_back():
    series = GaplessNumberSeries(InMemoryReservationLedger())
    first = series.reserve("acct-1", "invoices", 2026, "invoice:a")
    series.reserve("acct-1", "invoices", 2026, "invoice:b")
    assert series.reserve("acct-1", "invoices", 2026, "invoice:a") == first


def test_a_reservation_interrupted_after_its_claim_is_finished_with_no_gap():
    ledger = InMemoryReservationLedger()
    key = SeriesKey("acct-1", "invoices", 2026)
    ledger.add_claim(key, "invoice:crashed", 1)  # the claim was written, then the process died
    series = GaplessNumberSeries(ledger)
    assert series.reserve("acct-1", "invoices", 2026, "invoice:other") == 1
    assert series.reserve("acct-1", "invoices", 2026, "invoice:crashed") == 2  # its claim moves past 1
    assert ledger.seqs_of("acct-1", "invoices", 2026) == {1: "invoice:other", 2: "invoice:crashed"}


def test_a_stale_hint_only_costs_collisions():
    ledger = InMemoryReservationLedger()
    series = GaplessNumberSeries(ledger)
    for n in range(5):
        series.reserve("acct-1", "invoices", 2026, f"invoice:{n}")
    ledger.hints.clear()  # the $max after a reservation never ran
    assert series.reserve("acct-1", "invoices", 2026, "invoice:late") == 6


def test_concurrent_reservations_and_retries_are_gapless_and_unique():
    for seed in range(5):
        ledger = SlowLedger(seed)
        series = GaplessNumberSeries(ledger)
        documents = [f"invoice:{n}" for n in range(30)]
        got: dict[str, set[int]] = {document: set() for document in documents}
        lock = threading.Lock()

        def issue(document: str) -> None:
            seq = series.reserve("acct-1", "invoices", 2026, document)
            with lock:
                got[document].add(seq)

        # every document twice, as a retry racing the first attempt would
        threads = [threading.Thread(target=issue, args=(document,)) for document in documents * 2]
        random.Random(seed).shuffle(threads)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(len(seqs) == 1 for seqs in got.values()), got
        reserved = ledger.seqs_of("acct-1", "invoices", 2026)
        assert sorted(reserved) == list(range(1, 31))
        assert {reserved[next(iter(seqs))] for seqs in got.values()} == set(documents)


class TestInMemoryReservationLedger(ReservationLedgerContract):
    @pytest.fixture
    def ledger(self):
        return InMemoryReservationLedger()
