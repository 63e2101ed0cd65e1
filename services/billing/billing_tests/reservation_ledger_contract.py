"""The behaviour every ReservationLedger must have, run against the fake (unit) and MongoDB (integration).

Subclass `ReservationLedgerContract` and provide a `ledger` fixture (an empty ledger).
"""
from __future__ import annotations

from billing.domain.number_series import SeriesKey

KEY = SeriesKey("acct-1", "invoices", 2026)


class ReservationLedgerContract:
    def test_a_document_claims_once_and_its_claim_moves_only_from_where_it_is(self, ledger):
        assert ledger.claimed_seq(KEY, "invoice:a") is None
        assert ledger.add_claim(KEY, "invoice:a", 1) is True
        assert ledger.add_claim(KEY, "invoice:a", 5) is False and ledger.claimed_seq(KEY, "invoice:a") == 1
        assert ledger.move_claim(KEY, "invoice:a", 2, 3) is False
        assert ledger.move_claim(KEY, "invoice:a", 1, 2) is True and ledger.claimed_seq(KEY, "invoice:a") == 2

    def test_a_seq_is_reserved_for_the_first_document_and_names_it_after(self, ledger):
        assert ledger.reserve(KEY, 1, "invoice:a") == "invoice:a"
        assert ledger.reserve(KEY, 1, "invoice:b") == "invoice:a"
        assert ledger.reserve(KEY, 1, "invoice:a") == "invoice:a"

    def test_the_hint_starts_at_1_and_only_moves_forward(self, ledger):
        assert ledger.next_seq_hint(KEY) == 1
        ledger.advance_hint(KEY, 4)
        ledger.advance_hint(KEY, 2)
        assert ledger.next_seq_hint(KEY) == 5

    def test_series_years_and_accounts_are_apart(self, ledger):
        ledger.reserve(KEY, 1, "invoice:a")
        ledger.add_claim(KEY, "invoice:a", 1)
        ledger.advance_hint(KEY, 1)
        for other in (SeriesKey("acct-2", "invoices", 2026), SeriesKey("acct-1", "credit_notes", 2026),
                      SeriesKey("acct-1", "invoices", 2027)):
            assert ledger.reserve(other, 1, "doc:x") == "doc:x"
            assert ledger.claimed_seq(other, "invoice:a") is None and ledger.next_seq_hint(other) == 1
