"""Claiming a key or replaying its first answer, on the in-memory records (held to the MongoDB adapter's contract)."""
from datetime import timedelta

import pytest

from gateway.domain.idempotency import IdempotencyKeyInFlight, IdempotencyKeyReused, State
from gateway.domain.replay import KeptResponse, Replay
from gateway.service_layer.idempotency import Claimed, claim_or_replay, finish

from gateway.testing.fakes import InMemoryIdempotencyRecords
from gateway.testing.idempotency_records_contract import NOW, IdempotencyRecordsContract

STALE_AFTER = timedelta(seconds=17)
CREATED = KeptResponse(201, Replay.READ_BACK, {"Location": "/v1/contacts/c-1"})


class TestInMemoryIdempotencyRecords(IdempotencyRecordsContract):
    @pytest.fixture
    def records(self):
        return InMemoryIdempotencyRecords()


@pytest.fixture
def records():
    return InMemoryIdempotencyRecords()


def claim(records, fingerprint="f-1", at=NOW, record_id="r-1"):
    return claim_or_replay(records, record_id, "acct-1", fingerprint, at, STALE_AFTER)


def test_the_first_request_claims_the_key_and_its_retry_gets_its_answer(records):
    first = claim(records)
    assert isinstance(first, Claimed) and first.record.state is State.IN_FLIGHT
    finish(records, first, CREATED)
    assert claim(records, at=NOW + timedelta(hours=1)) == CREATED
    assert claim(records, at=NOW + timedelta(hours=2)) == CREATED


def test_a_retry_while_the_first_runs_is_told_to_come_back(records):
    claim(records)
    with pytest.raises(IdempotencyKeyInFlight):
        claim(records, at=NOW + timedelta(seconds=1))


def test_the_same_key_with_another_request_is_refused_running_or_done(records):
    first = claim(records)
    with pytest.raises(IdempotencyKeyReused):
        claim(records, fingerprint="f-2")
    finish(records, first, CREATED)
    with pytest.raises(IdempotencyKeyReused):
        claim(records, fingerprint="f-2", at=NOW + timedelta(hours=23))


def test_an_answer_not_kept_frees_the_key_for_a_retry(records):
    finish(records, claim(records), None)  # a 503: the client may retry it
    again = claim(records, at=NOW + timedelta(seconds=2))
    assert isinstance(again, Claimed) and records.get("r-1") == again.record


def test_a_request_left_in_flight_by_a_dead_process_is_taken_over_once(records):
    dead = claim(records)
    taker = claim(records, at=NOW + STALE_AFTER)
    assert isinstance(taker, Claimed) and taker.record.owner != dead.record.owner
    assert taker.record.created_at == NOW + STALE_AFTER  # it runs from now: another takeover waits again
    with pytest.raises(IdempotencyKeyInFlight):
        claim(records, at=NOW + STALE_AFTER + timedelta(seconds=1))
    finish(records, dead, KeptResponse(200, Replay.NOT_KEPT))  # the presumed dead answers late: ignored
    finish(records, taker, CREATED)
    assert claim(records, at=NOW + STALE_AFTER * 3) == CREATED


def test_an_expired_record_is_replaced_by_a_new_first_request_even_a_different_one(records):
    finish(records, claim(records), CREATED)
    later = claim(records, fingerprint="f-2", at=NOW + timedelta(hours=24))
    assert isinstance(later, Claimed) and later.record.fingerprint == "f-2"
    assert later.record.expires_at == NOW + timedelta(hours=48)


def test_keys_of_two_accounts_are_two_records(records):
    finish(records, claim(records, record_id="acct-1:r"), CREATED)
    assert isinstance(claim(records, record_id="acct-2:r"), Claimed)


def test_a_record_that_keeps_changing_under_a_request_ends_as_in_flight(records):
    class Flapping(InMemoryIdempotencyRecords):
        def add(self, record):
            return False

        def get(self, record_id):
            return None  # released each time it is looked at

    with pytest.raises(IdempotencyKeyInFlight):
        claim(Flapping())
