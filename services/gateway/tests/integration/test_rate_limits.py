"""Rate limits through the gateway on the real MongoDB server, with a scripted upstream service."""
import json
import threading
import time

import pytest

from crm_platform.mongo import MongoConnection
from crm_platform.testing.outages import MongoOutage

from gateway.adapters.rate_limit_counters import MongoRateLimitCounters
from gateway.domain.rate_limits import Limits
from gateway.service_layer.rate_limiting import RateLimiter

from gateway.testing.rate_limit_counters_contract import RateLimitCountersContract
from gateway.testing.rate_limit_windows import with_a_minute_ahead
from gateway.testing.scripted_upstreams import QuietHandler, gateway, gateway_app, serving

LIMITED = {"RATE_LIMIT_KEY_PER_SECOND": 5, "RATE_LIMIT_KEY_PER_MINUTE": 5, "RATE_LIMIT_ACCOUNT_PER_MINUTE": 100}


class TestMongoRateLimitCounters(RateLimitCountersContract):
    @pytest.fixture
    def counters(self, infra, mongo_client, unique_suffix):
        counters = MongoRateLimitCounters(MongoConnection(infra.mongo_uri, "test"), f"test_{unique_suffix}_gateway")
        counters.ensure_indexes()
        yield counters
        mongo_client.drop_database(f"test_{unique_suffix}_gateway")


def test_two_limiters_on_eight_threads_admit_exactly_the_quota(infra, unique_suffix, mongo_client, cleanup):
    counters = MongoRateLimitCounters(MongoConnection(infra.mongo_uri, "test"), f"test_{unique_suffix}_gateway")
    limits = Limits.per_second_and_minute(30, 30, 30, 10)
    limiters = [RateLimiter(counters, limits, b"s" * 32) for _ in range(2)]  # two gateway processes
    answers: list[tuple] = []
    start = threading.Barrier(8)

    def send(limiter):
        start.wait()
        for _ in range(10):
            answers.append(limiter.charge("k1", "a1"))

    threads = [threading.Thread(target=send, args=(limiters[n % 2],)) for n in range(8)]
    with_a_minute_ahead(20)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 80 and all(answers)  # every request counted, none let through uncounted
    assert sum(not any(usage.exceeded for usage in usages) for usages in answers) == 30


@pytest.fixture
def cleanup(mongo_client, unique_suffix):
    """Drops the gateway database the test made with `gateway(...)`."""
    yield
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")


@pytest.fixture
def upstream():
    class Contacts(QuietHandler):
        def do_GET(self):
            body = json.dumps({"items": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Contacts) as url:
        yield url


def test_a_burst_over_the_limit_gets_429_with_the_headers_and_retry_after(infra, unique_suffix, mongo_client, cleanup,
                                                                           upstream):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, upstream, **LIMITED)
    with_a_minute_ahead()
    answers = [client.get("/v1/contacts", headers=auth) for _ in range(5)]
    time.sleep(1.01 - time.time() % 1)  # the next second: the burst's window has room, the minute's has not
    answers.append(client.get("/v1/contacts", headers=auth))
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    policy = '"key-burst";q=5;w=1, "key";q=5;w=60, "account";q=100;w=60'
    assert all(answer.headers["RateLimit-Policy"] == policy for answer in answers)
    first, last_admitted, refused = answers[0], answers[4], answers[5]
    assert first.headers["RateLimit"].startswith('"key-burst";r=4;t=1, "key";r=4;t=')
    assert '"key";r=0;' in last_admitted.headers["RateLimit"] and '"account";r=95;' in last_admitted.headers["RateLimit"]
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["type"] == "/problems/rate-limited" and problem["violated_policies"] == ["key"]
    key_reset = int(refused.headers["RateLimit"].split('"key";r=0;t=')[1])
    assert 1 <= key_reset <= 60 and int(refused.headers["Retry-After"]) == key_reset == problem["retry_after_s"]


def test_two_gateway_replicas_share_the_counters(infra, unique_suffix, mongo_client, cleanup, upstream):
    first, auth, _ = gateway(infra, unique_suffix, mongo_client, upstream, **LIMITED)
    second = gateway_app(infra, unique_suffix, upstream, **LIMITED).test_client()  # another process's, same database
    with_a_minute_ahead()
    statuses = [(first if n % 2 else second).get("/v1/contacts", headers=auth).status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]
    assert second.get("/v1/contacts", headers=auth).status_code == 429


def test_an_address_that_failed_to_authenticate_too_often_gets_429_for_its_failures_but_a_valid_key_goes_on(
        infra, unique_suffix, mongo_client, cleanup, upstream):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, upstream, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE=3)
    shared = {"REMOTE_ADDR": "203.0.113.9"}  # an ingress every client comes through, or a NAT
    with_a_minute_ahead()
    wrong = {"Authorization": "Bearer crm_000000000000_" + "x" * 43}
    failures = [client.get("/v1/contacts", headers=wrong, environ_base=shared) for _ in range(4)]
    assert [answer.status_code for answer in failures] == [401] * 3 + [429]
    assert failures[2].headers["RateLimit"].startswith('"auth-failures";r=0;t=')
    assert failures[0].headers["RateLimit-Policy"] == '"auth-failures";q=3;w=60'
    throttled = failures[3]
    assert throttled.get_json()["type"] == "/problems/too-many-failed-authentications"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # ten bad keys from an address must not lock out the valid ones that share it
    admitted = client.get("/v1/contacts", headers=auth, environ_base=shared)
    assert admitted.status_code == 200 and admitted.headers["RateLimit-Policy"].startswith('"key-burst"')
    assert client.get("/v1/contacts", headers=wrong, environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 401
    # X-Forwarded-For is the client's say when no trusted proxy is configured: it changes nothing
    spoofed = client.get("/v1/contacts", headers={**wrong, "X-Forwarded-For": "198.51.100.77"}, environ_base=shared)
    assert spoofed.status_code == 429


def test_behind_a_trusted_proxy_the_client_address_is_the_one_it_forwards(infra, unique_suffix, mongo_client, cleanup,
                                                                         upstream):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, upstream, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE=2,
                              TRUSTED_PROXY_COUNT=1)
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    with_a_minute_ahead()
    for _ in range(2):
        client.get("/v1/contacts", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base=proxy)
    # a client cannot escape by adding its own X-Forwarded-For entry: the proxy's (the last) is the one read
    refused = client.get("/v1/contacts", headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.9"}, environ_base=proxy)
    assert refused.status_code == 429
    other = client.get("/v1/contacts", headers={"X-Forwarded-For": "198.51.100.4"}, environ_base=proxy)
    assert other.status_code == 401


def test_an_authenticated_request_costs_one_insert_per_policy_and_no_read(infra, unique_suffix, mongo_client, cleanup,
                                                                          upstream, monkeypatch):
    client, auth, _ = gateway(infra, unique_suffix, mongo_client, upstream)
    statements = []
    for name in ("take", "taken"):
        original = getattr(MongoRateLimitCounters, name)
        monkeypatch.setattr(MongoRateLimitCounters, name,
                            lambda self, *args, _name=name, _original=original: statements.append(_name)
                            or _original(self, *args))
    with_a_minute_ahead()
    assert client.get("/v1/contacts", headers=auth).status_code == 200
    assert statements == ["take"] * 2  # the key's minute and the account's; the burst per process, no address


def test_when_the_counters_are_unreachable_each_process_counts_alone_and_it_is_logged_once(
        infra, unique_suffix, mongo_client, cleanup, upstream, capfd):
    client, auth, container = gateway(infra, unique_suffix, mongo_client, upstream, RATE_LIMIT_KEY_PER_SECOND=2,
                                      RATE_LIMIT_KEY_PER_MINUTE=2, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE=1)
    key_id = auth["Authorization"].split("_")[1]
    with MongoOutage(infra.mongo_uri) as outage:
        # the counters' own client goes through the relay (set before the first request builds the limiter)
        container.rate_limit_mongo = MongoConnection(outage.uri(), "gateway-rate-limits", 300, 300, 300)
        with_a_minute_ahead(20)
        assert client.get("/v1/contacts", headers=auth).status_code == 200
        outage.cut()
        started = time.monotonic()
        capfd.readouterr()
        answers = [client.get("/v1/contacts", headers=auth) for _ in range(3)]
        wrong = [client.get("/v1/contacts", headers={"Authorization": "Bearer nope"}) for _ in range(2)]
        elapsed = time.monotonic() - started
    assert [answer.status_code for answer in answers] == [200, 429, 429]  # 1 counted before, 1 more alone
    assert '"key";r=0;' in answers[0].headers["RateLimit"] and answers[1].get_json()["type"] == "/problems/rate-limited"
    assert [answer.status_code for answer in wrong] == [401, 429]  # never a 503 for counters out of reach
    assert elapsed < 3  # one wait for the counters (0.3 s), not one per request
    logged = capfd.readouterr().err
    warnings = [json.loads(line) for line in logged.splitlines() if "rate-limit counters unavailable" in line]
    assert len(warnings) == 1 and warnings[0]["level"] == "WARNING"
    assert auth["Authorization"][7:] not in logged
    assert key_id not in json.dumps(warnings) and "address:" not in json.dumps(warnings)


def test_the_sweep_deletes_the_counters_of_windows_long_gone(infra, unique_suffix, mongo_client, cleanup, upstream):
    client, auth, container = gateway(infra, unique_suffix, mongo_client, upstream)
    client.get("/v1/contacts", headers=auth)
    client.get("/v1/contacts", headers={"Authorization": "Bearer nope"})
    tickets = container.db[MongoRateLimitCounters.COLLECTION]
    assert tickets.count_documents({}) == 3  # the key's minute, the account's, the failing address's
    assert container.rate_limit_counters.delete_expired(_now_plus(0)) == 0
    assert container.rate_limit_counters.delete_expired(_now_plus(121)) == 3
    assert tickets.count_documents({}) == 0


def _now_plus(seconds):
    from datetime import datetime, timedelta, timezone
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)
