"""The reservation ledger of gapless numbering on MongoDB (the protocol is billing.domain.number_series).

Every write is one single-document operation guarded by a primary key or a compare-and-set, so it
runs the same on MongoDB and FerretDB (no transaction). `number_reservations` holds the
reservations (`<account>:<series>:<year>:<seq>`, naming their document) and the documents' claims
(`<account>:<series>:<year>:doc:<document id>`, naming the seq they try or hold); `number_hints`
holds where each series' next free seq probably is (advanced with $max, never trusted alone).
Nothing here is ever deleted: a reservation is a number given out.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from billing.domain.number_series import ReservationLedger, SeriesKey

RESERVATION, CLAIM = "reservation", "claim"


class MongoReservationLedger(ReservationLedger):
    """Reservations and claims in one collection, hints in another."""

    def __init__(self, reservations: Collection, hints: Collection) -> None:
        self._reservations = reservations
        self._hints = hints

    def ensure_indexes(self) -> None:
        """The sweep looks for the reservations of a series whose document may not be issued yet."""
        self._reservations.create_index([("kind", ASCENDING), ("account_id", ASCENDING), ("series", ASCENDING),
                                         ("fiscal_year", ASCENDING), ("seq", ASCENDING)], name="series_reservations")

    def claimed_seq(self, key: SeriesKey, document_id: str) -> int | None:
        doc = self._reservations.find_one({"_id": key.claim_id(document_id)}, {"seq": 1})
        return None if doc is None else doc["seq"]

    def add_claim(self, key: SeriesKey, document_id: str, seq: int) -> bool:
        try:
            self._reservations.insert_one({"_id": key.claim_id(document_id), **self._fields(key, CLAIM, seq, document_id)})
        except DuplicateKeyError:
            return False
        return True

    def move_claim(self, key: SeriesKey, document_id: str, from_seq: int, to_seq: int) -> bool:
        moved = self._reservations.update_one({"_id": key.claim_id(document_id), "seq": from_seq},
                                              {"$set": {"seq": to_seq}})
        return moved.matched_count == 1

    def reserve(self, key: SeriesKey, seq: int, document_id: str) -> str:
        try:
            self._reservations.insert_one({"_id": key.reservation_id(seq), **self._fields(key, RESERVATION, seq, document_id)})
            return document_id
        except DuplicateKeyError:
            holder = self._reservations.find_one({"_id": key.reservation_id(seq)}, {"document_id": 1})
        if holder is None:  # reservations are never deleted: the database lost one
            raise RuntimeError(f"reservation {key.reservation_id(seq)} collided yet is not there")
        return holder["document_id"]

    def next_seq_hint(self, key: SeriesKey) -> int:
        doc = self._hints.find_one({"_id": key.hint_id()}, {"next_seq": 1})
        return 1 if doc is None else doc["next_seq"]

    def advance_hint(self, key: SeriesKey, past_seq: int) -> None:
        for _ in range(2):  # two first upserts of a series race on its _id: the loser's retry updates
            try:
                self._hints.update_one({"_id": key.hint_id()}, {"$max": {"next_seq": past_seq + 1}}, upsert=True)
                return
            except DuplicateKeyError:
                continue

    def reservations(self, key: SeriesKey, after_seq: int = 0, limit: int = 500) -> list[dict]:
        """The series' reservations above `after_seq`, in order (what a sweep reads, a page at a time)."""
        return list(self._reservations.find(
            {"kind": RESERVATION, "account_id": key.account_id, "series": key.series, "fiscal_year": key.fiscal_year,
             "seq": {"$gt": after_seq}}, {"seq": 1, "document_id": 1}).sort("seq", ASCENDING).limit(limit))

    @staticmethod
    def _fields(key: SeriesKey, kind: str, seq: int, document_id: str) -> dict:
        return {"kind": kind, "account_id": key.account_id, "series": key.series, "fiscal_year": key.fiscal_year,
                "seq": seq, "document_id": document_id, "at": datetime.now(timezone.utc)}
