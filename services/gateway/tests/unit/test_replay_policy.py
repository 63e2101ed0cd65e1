"""What of a first answer is kept for replays: never a body that may hold personal data."""
import json

import pytest

from gateway.domain.replay import KeptResponse, Replay, response_to_keep

JSON = {"Content-Type": "application/json", "Content-Length": "120"}


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_answers_that_invite_a_retry_are_not_kept(status):
    assert response_to_keep(status, {"Content-Type": "application/problem+json", "Retry-After": "5"}, True, {}) is None


def test_a_created_resource_is_replayed_from_its_location_and_its_body_is_not_kept():
    kept = response_to_keep(201, {**JSON, "location": "/v1/contacts/c-1", "ETag": '"1"', "X-Request-Id": "r",
                                  "Content-Disposition": 'attachment; filename="Louise Desnotes.vcf"'}, True)
    assert kept == KeptResponse(201, Replay.READ_BACK, {"Content-Type": "application/json",
                                                         "Location": "/v1/contacts/c-1", "ETag": '"1"'})
    assert kept.body == b"" and kept.read_back_url == "/v1/contacts/c-1"


def test_a_started_job_is_replayed_from_the_job_it_named():
    kept = response_to_keep(202, {**JSON, "Location": "/v1/jobs/job:7"}, True)
    assert kept.replay is Replay.READ_BACK and kept.read_back_url == "/v1/jobs/job:7"


def test_a_body_naming_its_resource_in_content_location_is_read_back_from_there():
    kept = response_to_keep(200, {**JSON, "Content-Location": "/v1/contacts/c-1"}, True)
    assert kept.replay is Replay.READ_BACK and kept.read_back_url == "/v1/contacts/c-1"


def test_an_answer_without_a_body_is_kept_whole():
    kept = response_to_keep(204, {"Content-Length": "0", "RateLimit": "limit=100, remaining=99, reset=30",
                                  "RateLimit-Policy": "100;w=60"}, False)
    assert kept == KeptResponse(204, Replay.EMPTY, {"RateLimit": "limit=100, remaining=99, reset=30",
                                                     "RateLimit-Policy": "100;w=60"})


def test_any_other_body_is_not_kept_only_its_status():
    kept = response_to_keep(200, {**JSON, "ETag": '"2"'}, True)  # a note's text, a changed contact...
    assert kept == KeptResponse(200, Replay.NOT_KEPT)


def test_a_refusal_keeps_its_problem_type_and_title_but_nothing_that_quotes_the_request():
    problem = {"type": "/problems/duplicate-contact", "title": "Duplicate contact", "status": 409,
               "detail": "contact c-9 already has louise@maison-papier.fr; update it, or send allow_duplicates=true",
               "existing_contact_id": "c-9", "matched": "louise@maison-papier.fr", "request_id": "req-1",
               "errors": {"louise@maison-papier.fr": ["Unknown field."]}}
    kept = response_to_keep(409, {"Content-Type": "application/problem+json", "Location": "/x"}, True, problem)
    assert kept.replay is Replay.KEPT and kept.status == 409
    assert kept.headers == {"Content-Type": "application/problem+json"}
    body = json.loads(kept.body)
    assert body["type"] == "/problems/duplicate-contact" and body["title"] == "Duplicate contact"
    assert body["status"] == 409 and "not kept" in body["detail"]
    assert b"louise" not in kept.body and b"c-9" not in kept.body and b"req-1" not in kept.body


def test_a_refusal_without_a_problem_body_still_replays_as_a_problem():
    kept = response_to_keep(405, {"Allow": "GET, HEAD", "Content-Length": "0"}, False)
    assert kept.headers == {"Allow": "GET, HEAD", "Content-Type": "application/problem+json"}
    assert json.loads(kept.body)["status"] == 405
    odd = response_to_keep(400, {}, True, {"type": ["not text"], "title": "t" * 201})
    assert json.loads(odd.body)["type"] == "about:blank" and json.loads(odd.body)["title"] == "Refused"
