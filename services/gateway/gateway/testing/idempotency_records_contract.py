"""The contract every IdempotencyRecords keeps; run against the fake AND the MongoDB adapter.

Subclass `IdempotencyRecordsContract` and provide a `records` fixture.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from gateway.domain.idempotency import RETENTION, Record, State
from gateway.domain.replay import KeptResponse, Replay

# MongoDB keeps milliseconds: start from a whole millisecond so that times read back equal.
NOW = datetime(2026, 3, 2, 9, 30, 0, 123000, tzinfo=timezone.utc)
CREATED = KeptResponse(201, Replay.READ_BACK, {"Location": "/v1/contacts/c-1", "ETag": '"1"'})
REFUSED = KeptResponse(409, Replay.KEPT, {"Content-Type": "application/problem+json"}, b'{"type": "/problems/x"}')


def record(record_id: str = "r-1", now: datetime = NOW, fingerprint: str = "f-1") -> Record:
    return Record.start(record_id, "acct-1", fingerprint, now)


class IdempotencyRecordsContract:
    def test_a_record_is_stored_once_and_read_back_whole(self, records):
        first = record()
        assert records.add(first) is True
        assert records.add(record()) is False  # the key is taken, whoever asks
        assert records.get("r-1") == first
        assert first.state is State.IN_FLIGHT and first.expires_at == NOW + RETENTION
        assert records.get("r-other") is None

    def test_the_owner_completes_its_record_with_the_answer_to_replay(self, records):
        first = record()
        records.add(first)
        assert records.complete(first, REFUSED) is True
        stored = records.get("r-1")
        assert stored.state is State.COMPLETED and stored.response == REFUSED and stored.owner == first.owner
        assert records.complete(first, CREATED) is False  # completed already: the first answer stays
        assert records.get("r-1").response == REFUSED

    def test_a_record_is_replaced_only_as_it_was_read(self, records):
        stale = record()
        records.add(stale)
        taker, late = record(now=NOW + timedelta(minutes=1)), record(now=NOW + timedelta(minutes=2))
        assert records.replace(stale, taker) is True
        assert records.get("r-1") == taker
        assert records.replace(stale, late) is False  # someone took it first
        assert records.complete(stale, CREATED) is False  # the old owner cannot complete what it lost
        records.release(stale)  # nor release it
        assert records.get("r-1") == taker

    def test_only_the_owner_of_an_in_flight_record_releases_it(self, records):
        first = record()
        records.add(first)
        records.release(record())  # another attempt's
        assert records.get("r-1") == first
        records.release(first)
        assert records.get("r-1") is None
        records.release(first)  # releasing what is gone is harmless
        assert records.add(record()) is True

    def test_a_completed_record_is_not_released(self, records):
        first = record()
        records.add(first)
        records.complete(first, CREATED)
        records.release(first)
        assert records.get("r-1").response == CREATED

    def test_expired_records_and_only_those_are_deleted(self, records):
        old, recent = record("r-old", NOW - RETENTION), record("r-new", NOW - timedelta(hours=1))
        records.add(old)
        records.add(recent)
        assert records.delete_expired(NOW) == 1
        assert records.get("r-old") is None and records.get("r-new") == recent
        assert records.delete_expired(NOW) == 0

    def test_of_simultaneous_first_requests_exactly_one_stores_its_record(self, records):
        attempts = [record() for _ in range(8)]
        won: list[bool] = []
        threads = [threading.Thread(target=lambda r=r: won.append(records.add(r))) for r in attempts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(won) == [False] * 7 + [True]
        assert records.get("r-1").owner in {r.owner for r in attempts}

    def test_of_simultaneous_takeovers_of_one_stale_record_exactly_one_replaces_it(self, records):
        """A compare-and-set is not atomic on FerretDB 1.24: several retries could each take over the same stale
        record and all run the request."""
        for round_ in range(5):
            stale = record(f"r-stale-{round_}")
            records.add(stale)
            takers = [record(f"r-stale-{round_}", now=NOW + timedelta(minutes=1)) for _ in range(8)]
            start, won = threading.Barrier(len(takers)), []

            def take_over(taker):
                start.wait()
                if records.replace(stale, taker):
                    won.append(taker.owner)

            threads = [threading.Thread(target=take_over, args=(taker,)) for taker in takers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(won) == 1, f"round {round_}: {len(won)} attempts took the record over"
            assert records.get(f"r-stale-{round_}").owner == won[0]
