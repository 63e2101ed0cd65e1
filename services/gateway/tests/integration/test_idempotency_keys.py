"""Idempotency-Key through the gateway, on the real MongoDB server, with a scripted upstream service."""
import json
import threading
import time
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pytest

from gateway.adapters.idempotency_records import MongoIdempotencyRecords
from gateway.domain.idempotency import WriteRequest, fingerprint, record_id
from gateway.domain.replay import KeptResponse, Replay
from gateway.service_layer.idempotency import claim_or_replay, finish, sweep_loop

from gateway.testing.idempotency_records_contract import IdempotencyRecordsContract
from gateway.testing.scripted_upstreams import QuietHandler, gateway, serving

LOUISE = {"first_name": "Louise", "emails": [{"address": "louise@maison-papier.fr"}]}
CONTACT = {"id": "c-1", "revision": 1, "first_name": "Louise", "emails": [{"address": "louise@maison-papier.fr"}]}


class TestMongoIdempotencyRecords(IdempotencyRecordsContract):
    @pytest.fixture
    def records(self, mongo_client, unique_suffix):
        records = MongoIdempotencyRecords(mongo_client[f"test_{unique_suffix}_gateway"]["idempotency_records"])
        records.ensure_indexes()
        yield records
        mongo_client.drop_database(f"test_{unique_suffix}_gateway")


@pytest.fixture
def cleanup(mongo_client, unique_suffix):
    """Drops the gateway database the test made with `gateway(...)`."""
    yield
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def created(method, path, body):
    """A contacts service that creates on POST (201 + Location) and reads on GET."""
    if method == "POST":
        return 201, {"Content-Type": "application/json", "Location": "/v1/contacts/c-1", "ETag": '"1"'}, CONTACT
    return 200, {"Content-Type": "application/json", "ETag": '"2"'}, {**CONTACT, "revision": 2}


@contextmanager
def upstream(answer):
    """A service answering with `answer(method, path, body) -> (status, headers, json or None)`; yields its URL and
    the requests it received (method, path, body)."""
    calls = []
    with serving(scripted(answer, calls)) as url:
        yield url, calls


def scripted(answer, calls):
    """The handler of a service answering with `answer`, noting each request it receives in `calls`."""

    class Scripted(QuietHandler):
        def _answer(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            calls.append((self.command, self.path, body))
            status, headers, payload = answer(self.command, self.path, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(data))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _answer

    return Scripted


def posts(calls):
    return [call for call in calls if call[0] == "POST"]


def with_key(auth, key="order-1234"):
    return {**auth, "Idempotency-Key": key}


def test_a_retried_create_runs_once_and_replays_the_status_location_and_current_state(infra, unique_suffix,
                                                                                      mongo_client, cleanup):
    with upstream(created) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        first = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
        retry = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert first.get_json() == CONTACT
    assert len(posts(calls)) == 1
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == "/v1/contacts/c-1"
    assert retry.get_json() == {**CONTACT, "revision": 2} and retry.headers["ETag"] == '"2"'  # the current state
    assert calls[-1][:2] == ("GET", "/v1/contacts/c-1")


def test_the_same_key_with_another_body_path_or_method_is_422_naming_the_header(infra, unique_suffix, mongo_client,
                                                                                cleanup):
    with upstream(created) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
        other_body = client.post("/v1/contacts", json={**LOUISE, "first_name": "Louis"}, headers=with_key(auth))
        other_path = client.post("/v1/labels", json=LOUISE, headers=with_key(auth))
        other_query = client.post("/v1/contacts?allow_duplicates=true", json=LOUISE, headers=with_key(auth))
        other_method = client.delete("/v1/contacts", headers=with_key(auth))
        reordered = client.post("/v1/contacts", data=json.dumps(dict(reversed(LOUISE.items())), indent=2),
                                content_type="application/json; charset=utf-8", headers=with_key(auth))
    for refused in (other_body, other_path, other_query, other_method):
        assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
        problem = refused.get_json()
        assert problem["type"] == "/problems/idempotency-key-reused" and list(problem["errors"]) == ["Idempotency-Key"]
    assert reordered.status_code == 201 and reordered.headers["Idempotent-Replayed"] == "true"
    assert len(posts(calls)) == 1 and not [c for c in calls if c[0] == "DELETE"]


def test_a_malformed_key_is_422_naming_the_header_and_nothing_runs(infra, unique_suffix, mongo_client, cleanup):
    with upstream(created) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        for key in ("x" * 256, "caf\u00e9"):
            refused = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, key))
            assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["Idempotency-Key"]
        read = client.get("/v1/contacts/c-1", headers=with_key(auth, "x" * 300))  # a GET needs none: ignored
    # nothing ran: the service was asked only which methods the path takes (an OPTIONS per refusal)
    assert calls == [("OPTIONS", "/v1/contacts", b"")] * 2 + [("GET", "/v1/contacts/c-1", b"")]
    assert read.status_code == 200


def test_a_malformed_key_on_a_path_or_method_the_service_lacks_is_its_404_or_405(infra, unique_suffix,
                                                                                mongo_client, cleanup):
    """As for any other field, what the path and method are comes first: the service's 404 and 405 (with its
    Allow), learnt by an OPTIONS request, then the header's 422 where the service takes the request."""
    def service(method, path, body):
        if path.startswith("/v1/contacts/nowhere"):
            return 404, {"Content-Type": "application/problem+json"}, {"status": 404}
        if method == "OPTIONS":
            return 200, {"Allow": "GET, HEAD, OPTIONS, POST"}, None
        return created(method, path, body)

    with upstream(service) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        lacking = client.patch("/v1/contacts", json=LOUISE, headers=with_key(auth, "caf\u00e9"))
        unknown = client.post("/v1/contacts/nowhere/x", json=LOUISE, headers=with_key(auth, "caf\u00e9"))
        taken = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, "caf\u00e9"))
        client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, "order-1"))
        reused_lacking = client.patch("/v1/contacts", json=LOUISE, headers=with_key(auth, "order-1"))
    assert lacking.status_code == 405 and lacking.mimetype == "application/problem+json"
    assert set(lacking.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    assert taken.status_code == 422 and list(taken.get_json()["errors"]) == ["Idempotency-Key"]
    assert reused_lacking.status_code == 405  # a key sent with another request: the method still comes first
    assert [method for method, _, _ in calls] == ["OPTIONS"] * 3 + ["POST", "OPTIONS"]  # nothing else ran


def test_a_retry_while_the_first_request_runs_gets_409_with_retry_after_then_the_answer(infra, unique_suffix,
                                                                                         mongo_client, cleanup):
    release = threading.Event()

    def slow(method, path, body):
        if method == "POST":
            release.wait(10)
        return created(method, path, body)

    with upstream(slow) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        answers = []
        first = threading.Thread(target=lambda: answers.append(client.post("/v1/contacts", json=LOUISE,
                                                                           headers=with_key(auth))))
        first.start()
        deadline = time.monotonic() + 10
        while not posts(calls) and time.monotonic() < deadline:
            time.sleep(0.02)
        busy = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
        release.set()
        first.join(10)
        after = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
    assert busy.get_json()["type"] == "/problems/idempotency-key-in-flight"
    assert answers[0].status_code == 201 and after.status_code == 201 and after.headers["Idempotent-Replayed"] == "true"
    assert len(posts(calls)) == 1


def stored_first_request(container, key, body: dict, at: datetime, answer: KeptResponse | None = None):
    """Record a first POST /v1/contacts with `key` as a request at `at` would have (answered or still in flight)."""
    account_id = container.db["accounts"].find_one()["_id"]
    secret = container.idempotency_secret
    request = WriteRequest("POST", "/v1/contacts", (), "application/json", "", json.dumps(body).encode())
    claimed = claim_or_replay(container.idempotency_records, record_id(secret, account_id, key), account_id,
                              fingerprint(secret, request), at, container.in_flight_stale_after)
    if answer is not None:
        finish(container.idempotency_records, claimed, answer)


def test_a_request_left_in_flight_by_a_process_that_died_is_taken_over(infra, unique_suffix, mongo_client, cleanup):
    with upstream(created) as (url, calls):
        client, auth, container = gateway(infra, unique_suffix, mongo_client, url)
        now = datetime.now(timezone.utc)
        stored_first_request(container, "died", LOUISE, now - timedelta(seconds=1))
        busy = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, "died"))
        stored_first_request(container, "long-dead", LOUISE, now - container.in_flight_stale_after)
        taken = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, "long-dead"))
        replayed = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, "long-dead"))
    assert busy.status_code == 409
    assert taken.status_code == 201 and "Idempotent-Replayed" not in taken.headers
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert len(posts(calls)) == 1


def test_a_key_expires_after_24_hours(infra, unique_suffix, mongo_client, cleanup):
    with upstream(created) as (url, calls):
        client, auth, container = gateway(infra, unique_suffix, mongo_client, url)
        day_ago = datetime.now(timezone.utc) - timedelta(hours=24, seconds=1)
        stored_first_request(container, "yesterday", {"first_name": "Paul"}, day_ago,
                             KeptResponse(201, Replay.READ_BACK, {"Location": "/v1/contacts/c-0"}))
        again = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, "yesterday"))
        swept = container.idempotency_records.delete_expired(datetime.now(timezone.utc) + timedelta(hours=24))
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers and len(posts(calls)) == 1
    assert swept == 1


def test_the_worker_sweep_deletes_expired_records_and_only_those(infra, unique_suffix, mongo_client, cleanup):
    _, _, container = gateway(infra, unique_suffix, mongo_client, "http://127.0.0.1:1")
    now = datetime.now(timezone.utc)
    stored_first_request(container, "old", LOUISE, now - timedelta(hours=25), KeptResponse(204, Replay.EMPTY))
    stored_first_request(container, "new", LOUISE, now - timedelta(hours=1), KeptResponse(204, Replay.EMPTY))
    stop = threading.Event()
    worker = threading.Thread(target=sweep_loop(container.idempotency_records, every_s=0.05), args=(stop,))
    worker.start()
    deadline = time.monotonic() + 10
    while container.db["idempotency_records"].count_documents({}) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    worker.join(10)
    [kept] = container.db["idempotency_records"].find()
    assert kept["expires_at"] > now


def test_a_server_error_is_not_kept_so_the_retry_runs(infra, unique_suffix, mongo_client, cleanup):
    answers = iter([(503, {"Content-Type": "application/problem+json", "Retry-After": "5"},
                     {"type": "/problems/dependency-unavailable", "title": "Service unavailable", "status": 503,
                      "detail": "retry later"})])

    def failing_once(method, path, body):
        return next(answers, None) or created(method, path, body)

    with upstream(failing_once) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        failed = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
        retried = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
    assert failed.status_code == 503 and retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers and len(posts(calls)) == 2


def test_a_service_that_refused_the_connection_never_got_the_request_so_the_retry_runs(infra, unique_suffix,
                                                                                     mongo_client, cleanup):
    calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), scripted(created, calls), bind_and_activate=False)
    server.server_bind()  # bound, not listening yet: a connection to its port is refused
    try:
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, f"http://127.0.0.1:{server.server_address[1]}")
        refused = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
        server.server_activate()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        retried = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
        server.shutdown()
    finally:
        server.server_close()
    assert refused.status_code == 503 and refused.get_json()["type"] == "/problems/dependency-unavailable"
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert len(posts(calls)) == 1


def test_a_request_the_service_got_but_did_not_answer_in_time_is_not_run_again(infra, unique_suffix, mongo_client,
                                                                               cleanup):
    def too_slow(method, path, body):
        if method == "POST":
            time.sleep(1.5)  # past UPSTREAM_TIMEOUT_S: the note is written, its answer comes too late
        return 201, {"Content-Type": "application/json"}, {"id": "n-1", "text": "Rappeler Louise lundi"}

    with upstream(too_slow) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url, timeout_s=0.5)
        timed_out = client.post("/v1/contacts/c-1/notes", json={"text": "Rappeler Louise lundi"}, headers=with_key(auth))
        retry = client.post("/v1/contacts/c-1/notes", json={"text": "Rappeler Louise lundi"}, headers=with_key(auth))
        time.sleep(1.2)  # the first POST's handler has finished: nothing more will arrive
    assert timed_out.status_code == 504 and timed_out.get_json()["type"] == "/problems/upstream-timeout"
    assert retry.status_code == 409 and retry.headers["Idempotent-Replayed"] == "true"
    problem = retry.get_json()
    assert problem["type"] == "/problems/idempotency-outcome-unknown" and problem["first_status"] == 504
    assert "new key" in problem["detail"]
    assert len(posts(calls)) == 1


def test_a_refusal_is_replayed_without_its_detail_and_nothing_personal_is_stored(infra, unique_suffix, mongo_client,
                                                                                 cleanup):
    def duplicate(method, path, body):
        return 409, {"Content-Type": "application/problem+json"}, {
            "type": "/problems/duplicate-contact", "title": "Duplicate contact", "status": 409,
            "detail": "contact c-9 already has louise@maison-papier.fr", "matched": "louise@maison-papier.fr",
            "existing_contact_id": "c-9"}

    with upstream(duplicate) as (url, calls):
        client, auth, container = gateway(infra, unique_suffix, mongo_client, url)
        first = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, "louise@maison-papier.fr"))
        retry = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth, "louise@maison-papier.fr"))
    assert first.get_json()["matched"] == "louise@maison-papier.fr"  # the first answer is the service's, whole
    assert retry.status_code == 409 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.mimetype == "application/problem+json"
    assert retry.get_json()["type"] == "/problems/duplicate-contact" and "louise" not in retry.get_data(as_text=True)
    assert len(posts(calls)) == 1
    stored = json.dumps(list(container.db["idempotency_records"].find()), default=repr)
    assert "louise" not in stored.lower() and "maison" not in stored.lower()  # neither the key nor the body


def test_a_body_that_cannot_be_kept_or_read_back_is_replayed_as_a_409_naming_the_first_status(
        infra, unique_suffix, mongo_client, cleanup):
    def note(method, path, body):
        return 201, {"Content-Type": "application/json"}, {"id": "n-1", "text": "Rappeler Louise lundi"}

    with upstream(note) as (url, calls):
        client, auth, container = gateway(infra, unique_suffix, mongo_client, url)
        first = client.post("/v1/contacts/c-1/notes", json={"text": "Rappeler Louise lundi"}, headers=with_key(auth))
        retry = client.post("/v1/contacts/c-1/notes", json={"text": "Rappeler Louise lundi"}, headers=with_key(auth))
    assert first.status_code == 201 and first.get_json()["text"] == "Rappeler Louise lundi"
    assert retry.status_code == 409 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json()["type"] == "/problems/idempotent-response-not-kept" and retry.get_json()["first_status"] == 201
    assert len(posts(calls)) == 1
    assert "Rappeler" not in json.dumps(list(container.db["idempotency_records"].find()), default=repr)


def test_a_replay_of_a_created_resource_that_is_gone_says_so(infra, unique_suffix, mongo_client, cleanup):
    def deleted_since(method, path, body):
        if method == "POST":
            return created(method, path, body)
        return 404, {"Content-Type": "application/problem+json"}, {"type": "/problems/not-found", "title": "Not found",
                                                                    "status": 404, "detail": "no contact c-1"}

    with upstream(deleted_since) as (url, _):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
        retry = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
    assert retry.status_code == 404 and retry.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_in_two_accounts_is_two_requests(infra, unique_suffix, mongo_client, cleanup):
    with upstream(created) as (url, calls):
        client, auth, container = gateway(infra, unique_suffix, mongo_client, url)
        _, other_key = container.accounts.create_account("Autre Agence")
        other = {"Authorization": f"Bearer {other_key.plaintext}"}
        mine = client.post("/v1/contacts", json=LOUISE, headers=with_key(auth))
        theirs = client.post("/v1/contacts", json=LOUISE, headers=with_key(other))
    assert mine.status_code == theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert len(posts(calls)) == 2
    assert container.db["idempotency_records"].count_documents({}) == 2


def test_a_delete_without_a_body_is_replayed_as_it_was(infra, unique_suffix, mongo_client, cleanup):
    def no_content(method, path, body):
        return 204, {}, None

    with upstream(no_content) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        first = client.delete("/v1/contacts/c-1?revision=3", headers=with_key(auth))
        retry = client.delete("/v1/contacts/c-1?revision=3", headers=with_key(auth))
    assert first.status_code == retry.status_code == 204 and retry.data == b""
    assert retry.headers["Idempotent-Replayed"] == "true" and len(calls) == 1


def test_a_replayed_job_start_shows_the_job_as_it_is_now(infra, unique_suffix, mongo_client, cleanup):
    def job(method, path, body):
        if method == "POST":
            return 202, {"Content-Type": "application/json", "Location": "/v1/jobs/job:7"}, {"id": "job:7", "status": "queued"}
        return 200, {"Content-Type": "application/json"}, {"id": "job:7", "status": "done"}

    with upstream(job) as (url, calls):
        client, auth, _ = gateway(infra, unique_suffix, mongo_client, url)
        started = client.post("/v1/labels/vip/assignments", json={"contact_ids": ["c-1"], "action": "assign"},
                              headers=with_key(auth))
        retry = client.post("/v1/labels/vip/assignments", json={"contact_ids": ["c-1"], "action": "assign"},
                            headers=with_key(auth))
    assert started.status_code == 202 and started.get_json()["status"] == "queued"
    assert retry.status_code == 202 and retry.headers["Location"] == "/v1/jobs/job:7"
    assert retry.get_json() == {"id": "job:7", "status": "done"} and retry.headers["Idempotent-Replayed"] == "true"
    assert [(method, unquote(path)) for method, path, _ in calls] == [("POST", "/v1/labels/vip/assignments"),
                                                                       ("GET", "/v1/jobs/job:7")]
