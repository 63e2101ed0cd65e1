"""What every ReservationLedger must do, run against the in-memory fake and the MongoDB adapter alike.

A subclass provides a `ledger` fixture (a fresh, empty ledger); the integration suite subclasses it
for billing/adapters/number_series.py, so that the fake the unit tests use stays honest.
"""
import threading

from billing.domain.number_series import GaplessNumberSeries, SeriesKey

KEY = SeriesKey("acct-1", "invoices", 2026)


class ReservationLedgerContract:
    def test_a_claim_is_added_once_and_moved_only_from_what_it_says(self, ledger):
        assert ledger.claimed_seq(KEY, "invoice:a") is None
        assert ledger.add_claim(KEY, "invoice:a", 3) is True
        assert ledger.add_claim(KEY, "invoice:a", 4) is False and ledger.claimed_seq(KEY, "invoice:a") == 3
        assert ledger.move_claim(KEY, "invoice:a", 2, 5) is False
        assert ledger.move_claim(KEY, "invoice:a", 3, 4) is True and ledger.claimed_seq(KEY, "invoice:a") == 4

    def test_a_reservation_names_its_first_document_forever(self, ledger):
        assert ledger.reserve(KEY, 1, "invoice:a") == "invoice:a"
        assert ledger.reserve(KEY, 1, "invoice:b") == "invoice:a"
        assert ledger.reserve(SeriesKey("acct-1", "invoices", 2027), 1, "invoice:b") == "invoice:b"
        assert ledger.reserve(SeriesKey("acct-2", "invoices", 2026), 1, "invoice:c") == "invoice:c"

    def test_the_hint_starts_at_one_and_only_rises(self, ledger):
        assert ledger.next_seq_hint(KEY) == 1
        ledger.advance_hint(KEY, 5)
        ledger.advance_hint(KEY, 2)
        assert ledger.next_seq_hint(KEY) == 6

    def test_concurrent_reservations_are_numbered_one_to_n(self, ledger):
        series = GaplessNumberSeries(ledger)
        documents = [f"invoice:{n}" for n in range(20)]
        got, lock = {}, threading.Lock()

        def issue(document):
            seq = series.reserve(KEY.account_id, KEY.series, KEY.fiscal_year, document)
            with lock:
                got.setdefault(document, set()).add(seq)

        threads = [threading.Thread(target=issue, args=(document,)) for document in documents * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(len(seqs) == 1 for seqs in got.values()) and len(got) == 20
        assert sorted(seq for seqs in got.values() for seq in seqs) == list(range(1, 21))
