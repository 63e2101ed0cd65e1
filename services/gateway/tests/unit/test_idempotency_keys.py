"""Idempotency keys, fingerprints and records: the domain rules, no I/O."""
import re
from datetime import timedelta

import pytest

from crm_platform.errors import InvalidInput

from gateway.domain.idempotency import (KEY_PATTERN, IdempotencyKeyInFlight, IdempotencyKeyReused, Record, State,
                                        Step, WriteRequest, checked_key, fingerprint, record_id)
from gateway.domain.replay import KeptResponse, Replay

from gateway.testing.idempotency_records_contract import NOW

SECRET = b"s" * 32
STALE_AFTER = timedelta(seconds=17)
CREATE = WriteRequest("POST", "/v1/contacts", (), "application/json", "", b'{"first_name": "Louise", "company": "MdP"}')


@pytest.mark.parametrize("key", ["a", "0", "x" * 255, "order 1234 retry", "9f1c2b7e-8f3a-4c59-b4a4-0a4c2a1b2c3d",
                                 "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"])
def test_printable_ascii_keys_of_1_to_255_characters_are_keys(key):
    assert checked_key(key) == key
    assert re.fullmatch(KEY_PATTERN, key)  # the pattern the OpenAPI document states agrees


@pytest.mark.parametrize("key", ["", "x" * 256, " a", "a ", "a\tb", "caf\u00e9", "a\x00b", "a\x7fb", "\u2603"])
def test_anything_else_is_a_422_naming_the_header(key):
    with pytest.raises(InvalidInput) as refused:
        checked_key(key)
    assert list(refused.value.errors) == ["Idempotency-Key"] and refused.value.status == 422
    assert not re.fullmatch(KEY_PATTERN, key) or len(key) > 255


def test_a_key_is_recorded_per_account_under_a_keyed_hash_that_does_not_show_it():
    in_a, in_b = record_id(SECRET, "acct-a", "order-1234"), record_id(SECRET, "acct-b", "order-1234")
    assert in_a != in_b
    assert in_a == record_id(SECRET, "acct-a", "order-1234")
    assert record_id(b"t" * 32, "acct-a", "order-1234") != in_a  # keyed: no one can test guesses without the secret
    assert "order" not in in_a and "acct" not in in_a
    assert record_id(SECRET, "acct-a1", "x") != record_id(SECRET, "acct-a", "1x")  # parts cannot run into each other


def test_a_faithful_retry_has_the_same_fingerprint_even_serialised_anew():
    again = WriteRequest("POST", "/v1/contacts", (), "application/json; charset=utf-8", "",
                         b'{ "company":"MdP",\n  "first_name":"Louise" }')
    assert fingerprint(SECRET, again) == fingerprint(SECRET, CREATE)


def test_an_upload_retried_with_a_new_multipart_boundary_has_the_same_fingerprint():
    def upload(boundary: str, content: bytes) -> WriteRequest:
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"devis.pdf\"\r\n"
                f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return WriteRequest("POST", "/v1/contacts/c-1/attachments", (), f"multipart/form-data; boundary={boundary}",
                            "", body)

    assert fingerprint(SECRET, upload("a1b2", b"%PDF-1.4")) == fingerprint(SECRET, upload("zz99", b"%PDF-1.4"))
    assert fingerprint(SECRET, upload("a1b2", b"%PDF-1.4")) != fingerprint(SECRET, upload("a1b2", b"%PDF-1.5"))


@pytest.mark.parametrize("changed", [
    WriteRequest("PATCH", "/v1/contacts", (), "application/json", "", CREATE.body),
    WriteRequest("POST", "/v1/labels", (), "application/json", "", CREATE.body),
    WriteRequest("POST", "/v1/contacts", (("allow_duplicates", "true"),), "application/json", "", CREATE.body),
    WriteRequest("POST", "/v1/contacts", (), "application/json", "", b'{"first_name": "Louis", "company": "MdP"}'),
    WriteRequest("POST", "/v1/contacts", (), "application/json", '"3"', CREATE.body),
    WriteRequest("POST", "/v1/contacts", (), "text/plain", "", CREATE.body),
])
def test_a_request_that_differs_in_what_matters_has_another_fingerprint(changed):
    assert fingerprint(SECRET, changed) != fingerprint(SECRET, CREATE)
    assert fingerprint(b"t" * 32, CREATE) != fingerprint(SECRET, CREATE)


def test_a_body_that_is_not_json_is_compared_byte_for_byte():
    broken = WriteRequest("POST", "/v1/contacts", (), "application/json", "", b'{"first_name": ')
    assert fingerprint(SECRET, broken) == fingerprint(SECRET, broken)
    deep = WriteRequest("POST", "/v1/contacts", (), "application/json", "", b"[" * 100_000 + b"]" * 100_000)
    assert fingerprint(SECRET, deep) != fingerprint(SECRET, broken)


def in_flight(at=NOW, request_fingerprint="f-1") -> Record:
    return Record.start("r-1", "acct-1", request_fingerprint, at)


def test_a_completed_record_is_replayed_to_the_same_request_and_refused_to_another():
    done = in_flight().completed(KeptResponse(204, Replay.EMPTY))
    assert done.state is State.COMPLETED
    assert done.next_step("f-1", NOW + timedelta(hours=23), STALE_AFTER) is Step.REPLAY
    with pytest.raises(IdempotencyKeyReused) as refused:
        done.next_step("f-2", NOW, STALE_AFTER)
    assert refused.value.status == 422 and list(refused.value.errors) == ["Idempotency-Key"]


def test_a_request_in_flight_makes_a_retry_wait_until_its_owner_is_presumed_dead():
    running = in_flight()
    with pytest.raises(IdempotencyKeyInFlight) as busy:
        running.next_step("f-1", NOW + STALE_AFTER - timedelta(milliseconds=1), STALE_AFTER)
    assert busy.value.status == 409 and busy.value.retry_after == 1
    assert running.next_step("f-1", NOW + STALE_AFTER, STALE_AFTER) is Step.TAKE_OVER
    with pytest.raises(IdempotencyKeyReused):  # even abandoned, the key stays its request's until it expires
        running.next_step("f-2", NOW + STALE_AFTER, STALE_AFTER)


def test_after_24_hours_a_record_is_as_good_as_absent():
    done = in_flight().completed(KeptResponse(204, Replay.EMPTY))
    assert not done.expired(NOW + timedelta(hours=24) - timedelta(milliseconds=1))
    assert done.expired(NOW + timedelta(hours=24))
    assert done.next_step("f-1", NOW + timedelta(hours=24), STALE_AFTER) is Step.TAKE_OVER
    assert done.next_step("f-other", NOW + timedelta(hours=24), STALE_AFTER) is Step.TAKE_OVER
