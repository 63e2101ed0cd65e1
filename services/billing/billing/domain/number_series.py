"""Gapless document numbers: the `NumberSeries` port and the reservation protocol, as pure code.

A number (seq) of an account's series ("invoices", "credit_notes", "quotes") and fiscal year is
RESERVED for one document; the document's Issued event then carries it. Without multi-document
transactions, two unique keys do the work, each guarded by a primary key alone (so it runs on
MongoDB and FerretDB alike):

- the reservation  `<account>:<series>:<year>:<seq>` -> document id: two documents trying the same
  seq collide, the loser tries seq + 1;
- the claim        `<account>:<series>:<year>:doc:<document id>` -> seq: the seq this document is
  trying or holds. It is written BEFORE the reservation and only ever moves past a seq that
  another document holds, so a document holds at most one seq, and a retry (after a crash, or
  concurrent) finds and finishes the same attempt: the same number comes back.

A document holds seq s when its claim says s and reservation s names it. Every seq reserved is
next to the others (a candidate is never above the highest reserved + 1, and an attempt moves up
only past reserved seqs), so the reserved seqs are exactly 1..n. A reserved number whose document
never got its Issued event is finished by a sweep (it issues that document): no gap.
The next candidate comes from a hint advanced with $max after each reservation; it is never
trusted alone (the reservation's primary key is the guard).

`GaplessNumberSeries` is that protocol over a `ReservationLedger`, the three small collections'
worth of storage an adapter provides (billing/adapters/number_series.py on MongoDB).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass


class NumberSeries(abc.ABC):
    """The port the issuing handlers use."""

    @abc.abstractmethod
    def reserve(self, account_id: str, series: str, fiscal_year: int, document_id: str) -> int:
        """The seq (1, 2, ...) reserved for this document; the same seq on every retry for the same document."""


@dataclass(frozen=True)
class SeriesKey:
    account_id: str
    series: str
    fiscal_year: int

    def reservation_id(self, seq: int) -> str:
        return f"{self.account_id}:{self.series}:{self.fiscal_year}:{seq}"

    def claim_id(self, document_id: str) -> str:
        return f"{self.account_id}:{self.series}:{self.fiscal_year}:doc:{document_id}"

    def hint_id(self) -> str:
        return f"{self.account_id}:{self.series}:{self.fiscal_year}"


class ReservationLedger(abc.ABC):
    """Storage of the protocol; each method is one single-document operation."""

    @abc.abstractmethod
    def claimed_seq(self, key: SeriesKey, document_id: str) -> int | None:
        """The seq the document's claim names, or None if it has no claim."""

    @abc.abstractmethod
    def add_claim(self, key: SeriesKey, document_id: str, seq: int) -> bool:
        """Insert the document's claim at `seq`; False if it already has one (insert on the primary key)."""

    @abc.abstractmethod
    def move_claim(self, key: SeriesKey, document_id: str, from_seq: int, to_seq: int) -> bool:
        """Move the claim from `from_seq` to `to_seq` if it still says `from_seq` (compare and set)."""

    @abc.abstractmethod
    def reserve(self, key: SeriesKey, seq: int, document_id: str) -> str:
        """Insert reservation `seq` for the document unless it exists; the document id it names either way."""

    @abc.abstractmethod
    def next_seq_hint(self, key: SeriesKey) -> int:
        """Where to start looking for a free seq (1 for a new series)."""

    @abc.abstractmethod
    def advance_hint(self, key: SeriesKey, past_seq: int) -> None:
        """Raise the hint to `past_seq + 1` if it is lower ($max)."""


class GaplessNumberSeries(NumberSeries):
    def __init__(self, ledger: ReservationLedger) -> None:
        self._ledger = ledger

    def reserve(self, account_id: str, series: str, fiscal_year: int, document_id: str) -> int:
        key = SeriesKey(account_id, series, fiscal_year)
        seq = self._claim(key, document_id)
        while True:
            holder = self._ledger.reserve(key, seq, document_id)
            if holder == document_id:
                self._ledger.advance_hint(key, seq)
                return seq
            # seq belongs to another document: move on, unless a concurrent attempt for this document already did
            if not self._ledger.move_claim(key, document_id, seq, seq + 1):
                seq = self._current_claim(key, document_id)
            else:
                seq += 1

    def _claim(self, key: SeriesKey, document_id: str) -> int:
        claimed = self._ledger.claimed_seq(key, document_id)
        if claimed is not None:
            return claimed
        candidate = self._ledger.next_seq_hint(key)
        if self._ledger.add_claim(key, document_id, candidate):
            return candidate
        return self._current_claim(key, document_id)  # a concurrent attempt for this document claimed first

    def _current_claim(self, key: SeriesKey, document_id: str) -> int:
        seq = self._ledger.claimed_seq(key, document_id)
        if seq is None:  # claims are never deleted: the ledger broke its contract
            raise RuntimeError(f"the claim {key.claim_id(document_id)} vanished")
        return seq
