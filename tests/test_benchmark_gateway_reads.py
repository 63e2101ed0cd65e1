"""The pure parts of benchmarks/gateway_reads.py (issue 14's gateway figures): the overhead, the section counts, the
headers of the direct read, the arguments, and a 429 waited out rather than timed. The whole script is run against a
running system, not here."""
from __future__ import annotations

from pathlib import Path

import pytest

from crm_platform.testing.scripts import load_script

from gateway.domain.api_keys import issue_key

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gateway_reads.py"


@pytest.fixture(scope="module")
def bench():
    return load_script(SCRIPT)


def test_the_overhead_is_the_proxied_percentile_minus_the_direct_one(bench):
    proxy = bench.percentiles([float(ms) for ms in range(1, 101)])  # 1..100 ms
    direct = bench.percentiles([ms / 4 for ms in range(1, 101)])
    assert proxy == {"p50_ms": 50.0, "p95_ms": 95.0, "p99_ms": 99.0}
    assert bench.overhead(proxy, direct) == {"p50_ms": 37.5, "p95_ms": 71.2}
    assert bench.overhead(bench.percentiles([]), direct) == {"p50_ms": None, "p95_ms": None}


def test_section_statuses_count_every_status_and_what_was_not_ok(bench):
    answers = [{"sections": {"notes": {"status": "ok", "items": []}, "invoices": {"status": "ok"}}},
               {"sections": {"notes": {"status": "ok"}, "invoices": {"status": "unavailable"}}},
               {}]  # an answer that was not a 200
    assert bench.section_statuses(answers) == {
        "by_section": {"invoices": {"ok": 1, "unavailable": 1}, "notes": {"ok": 2}}, "not_ok": 1}


def test_the_direct_read_carries_the_account_and_key_the_gateway_would_send(bench):
    key = issue_key()
    assert bench.upstream_headers(key.plaintext, "acc-1", "token") == {
        "X-Internal-Token": "token", "X-Account-Id": "acc-1", "X-Actor": f"api-key:{key.key_id}"}
    with pytest.raises(ValueError):
        bench.upstream_headers("not-a-key", "acc-1", "token")


def test_arguments_default_to_the_dev_env_and_refuse_zero_requests(bench, capsys):
    args = bench.parse_args([], {"GATEWAY_URL": "http://gw:1", "CONTACTS_URL": "http://contacts:2"})
    assert (args.gateway, args.contacts, args.requests, args.warmup, args.json) == (
        "http://gw:1", "http://contacts:2", 200, 20, None)
    assert bench.parse_args(["--requests", "20", "--warmup", "0", "--json", "out.json"], {}).json == Path("out.json")
    for wrong in (["--requests", "0"], ["--warmup", "-1"]):
        with pytest.raises(SystemExit):
            bench.parse_args(wrong, {})


class Answer:
    def __init__(self, status_code: int, headers: dict | None = None) -> None:
        self.status_code, self.headers = status_code, headers or {}


class ScriptedSession:
    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)

    def get(self, url, headers, timeout):
        return self.answers.pop(0)


def test_a_429_is_waited_out_and_counted_never_timed(bench):
    timings = bench.Timings()
    answer = bench.timed_get(ScriptedSession(Answer(429, {"Retry-After": "0"}), Answer(200)), "http://x", {}, timings)
    assert answer.status_code == 200
    assert (len(timings.latencies_ms), dict(timings.statuses), timings.rate_limited) == (1, {200: 1}, 1)


def test_the_table_has_a_row_per_read_with_the_overhead_beside_the_proxied_and_direct_figures(bench):
    figures = {"p50_ms": 10.0, "p95_ms": 20.0, "p99_ms": 30.0}
    pair = {"proxy": figures, "direct": figures, "gateway_overhead": {"p50_ms": 0.0, "p95_ms": 0.0}}
    report = {"at": "2026-12-03T11:00:00+00:00", "machine": "x86_64, 2 cores", "database_server": "FerretDB",
              "requests": 20, "warmup": 5, "list_size": 50,
              "contact_360": {**figures, "sections": {"not_ok": 2}}, "contact": pair, "list_page": pair}
    lines = bench.table(report).splitlines()
    assert lines[0] == "2026-12-03T11:00:00+00:00, x86_64, 2 cores, backend FerretDB, 20 requests of each after 5 " \
                       "of warm-up"
    assert lines[-3] == "| the 360 read, `GET /v1/contacts/{id}/360` (sections not ok: 2) | 10.0 / 20.0 / 30.0 | | |"
    assert lines[-1] == "| a list page, `GET /v1/contacts?limit=50` | 10.0 / 20.0 / 30.0 | 10.0 / 20.0 / 30.0 | " \
                        "0.0 / 0.0 |"
