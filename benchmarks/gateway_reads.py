"""The gateway's reads (issue 14, "Done when"): the contact 360 read, and what the gateway alone adds to a read.

It makes a new account (the gateway's CLI) and ONE contact with every section of the 360 read filled (2 labels,
3 notes, 1 attachment, 1 issued invoice, 1 quote, 1 card, 1 task), plus plain contacts so that a list page of
--list-size is full; waits until the 360 read shows every section; then, after --warmup requests of each kind
(not timed), times --requests requests of each, closed loop, one after the other:
1. `GET /v1/contacts/{id}/360` through the gateway: p50/p95/p99, and the status of each section in each answer
   (all should be `ok`; any other is counted);
2. `GET /v1/contacts/{id}` through the gateway (proxy) and the same read sent directly to the contacts service
   (direct), with the headers the gateway adds upstream for that account and key (X-Account-Id, X-Actor,
   X-Internal-Token): p50/p95/p99 of each and the gateway's overhead (proxy minus direct) at p50 and p95;
3. the same for a list page, `GET /v1/contacts?limit=<list-size>`.
Proxy and direct requests alternate, so that both see the same machine. Before timing, one proxied and one direct
answer of each read are compared: the same status and body, or the script stops (the comparison would be false).
A 429 (make run's rate limits) is waited out as its Retry-After says and counted, never timed.

Run against a system started with `make run` (raise the rate limits as for benchmarks/load_levels.py, or the
waits stretch the run), then:
  python benchmarks/gateway_reads.py [--requests 200] [--warmup 20] [--gateway URL] [--contacts URL] [--json PATH]
It reads make run's INTERNAL_TOKEN and CONTACTS_URL from var/dev.env, prints a table and saves JSON under
benchmarks/results/ (and at --json PATH if given). The client shares the machine with the system.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO)]
from find_contacts import new_account  # noqa: E402
from reporting import PatientSession, load_env, machine, percentile, save  # noqa: E402

from gateway.domain.api_keys import parse_key  # noqa: E402

# what the seeded contact holds in each section of its 360 read
EXPECTED_ITEMS = {"labels": 2, "notes": 3, "attachments": 1, "invoices": 1, "quotes": 1, "cards": 1, "tasks": 1}
READY_TIMEOUT_S = 180


@dataclass
class Timings:
    """Latencies of the answered requests of one kind, their statuses, and the 429s waited out."""
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    rate_limited: int = 0

    def summary(self) -> dict:
        return {**percentiles(self.latencies_ms), "requests": len(self.latencies_ms),
                "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
                "rate_limited_waited_out": self.rate_limited}


def percentiles(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {f"p{q}_ms": round(percentile(values_ms, q), 1) for q in (50, 95, 99)}


def overhead(proxy: dict, direct: dict) -> dict:
    """What the gateway adds: the proxied read's p50 and p95 minus the direct read's."""
    return {key: None if proxy[key] is None or direct[key] is None else round(proxy[key] - direct[key], 1)
            for key in ("p50_ms", "p95_ms")}


def section_statuses(answers: list[dict]) -> dict:
    """How often each section had each status, over the 360 answers; `not_ok` counts the others than `ok`."""
    seen: dict[str, Counter] = {}
    for answer in answers:
        for name, section in answer.get("sections", {}).items():
            seen.setdefault(name, Counter())[section.get("status")] += 1
    not_ok = sum(count for statuses in seen.values() for status, count in statuses.items() if status != "ok")
    return {"by_section": {name: dict(statuses) for name, statuses in sorted(seen.items())}, "not_ok": not_ok}


def upstream_headers(api_key: str, account_id: str, internal_token: str) -> dict:
    """The headers that make a request to a service the account's, from that key, as the gateway sends them."""
    parsed = parse_key(api_key)
    if parsed is None:
        raise ValueError("not an API key of this CRM")
    return {"X-Internal-Token": internal_token, "X-Account-Id": account_id, "X-Actor": f"api-key:{parsed[0]}"}


def timed_get(session: requests.Session, url: str, headers: dict, timings: Timings) -> requests.Response:
    """GET `url`, timed to the last byte of the answer; a 429 is waited out, counted, and asked again untimed."""
    while True:
        start = time.perf_counter()
        answer = session.get(url, headers=headers, timeout=30)
        elapsed_ms = (time.perf_counter() - start) * 1000
        if answer.status_code != 429:
            timings.latencies_ms.append(elapsed_ms)
            timings.statuses[answer.status_code] += 1
            return answer
        timings.rate_limited += 1
        time.sleep(float(answer.headers.get("Retry-After", "1")))


@dataclass(frozen=True)
class Target:
    """Where to read, and as whom: the gateway with the account's key, the contacts service as the gateway would."""
    gateway: str
    contacts: str
    key_headers: dict
    direct_headers: dict


def read_360(target: Target, contact_id: str, requests_n: int, warmup: int) -> dict:
    url = f"{target.gateway}/v1/contacts/{contact_id}/360"
    session = requests.Session()
    for _ in range(warmup):
        timed_get(session, url, target.key_headers, Timings())
    timings, answers = Timings(), []
    for _ in range(requests_n):
        answer = timed_get(session, url, target.key_headers, timings)
        answers.append(answer.json() if answer.status_code == 200 else {})
    return {**timings.summary(), "sections": section_statuses(answers)}


def proxy_and_direct(target: Target, path: str, requests_n: int, warmup: int) -> dict:
    """The same read through the gateway and directly, alternating; stops if the two answer differently."""
    proxy_session, direct_session = requests.Session(), requests.Session()
    proxy_url, direct_url = f"{target.gateway}{path}", f"{target.contacts}{path}"
    proxied = timed_get(proxy_session, proxy_url, target.key_headers, Timings())
    direct = timed_get(direct_session, direct_url, target.direct_headers, Timings())
    if (proxied.status_code, proxied.content) != (direct.status_code, direct.content):
        raise SystemExit(f"{path}: the gateway answered {proxied.status_code}, the contacts service "
                         f"{direct.status_code}, or their bodies differ: the comparison would not be of one read")
    for _ in range(warmup):
        timed_get(proxy_session, proxy_url, target.key_headers, Timings())
        timed_get(direct_session, direct_url, target.direct_headers, Timings())
    proxy_timings, direct_timings = Timings(), Timings()
    for _ in range(requests_n):
        timed_get(proxy_session, proxy_url, target.key_headers, proxy_timings)
        timed_get(direct_session, direct_url, target.direct_headers, direct_timings)
    proxy_summary, direct_summary = proxy_timings.summary(), direct_timings.summary()
    return {"path": path, "proxy": proxy_summary, "direct": direct_summary,
            "gateway_overhead": overhead(proxy_summary, direct_summary)}


def seed(gateway: str, headers: dict, list_size: int) -> str:
    """The contact with every 360 section filled, and plain contacts up to `list_size` in the account."""
    # here, not at the top: under pytest, `tests` may be another package (a service's), and the unit tests of this
    # script's pure parts seed nothing
    from tests.e2e.privacy_seed import LINE, seed_person
    http = PatientSession()
    person = seed_person(gateway, headers, notes=3, files=1, cards=1, invoices=0, quotes=1, session=http)
    contact_id = person.contact_id
    for name in ("Fidèle", "Salon 2026"):
        label = _answer(http.post(f"{gateway}/v1/labels/find-or-create", json={"name": name}, headers=headers,
                                  timeout=30), 200)
        _answer(http.put(f"{gateway}/v1/contacts/{contact_id}/labels/{label['key']}", headers=headers, timeout=30),
                200, 204)
    invoice = _until_created(lambda: http.post(f"{gateway}/v1/invoices", headers=headers, timeout=30,
                                               json={"contact_id": contact_id, "lines": [LINE]}))
    _answer(http.post(f"{gateway}/v1/invoices/{invoice['id']}/issue", headers=headers, timeout=30), 200, 202)
    _until_created(lambda: http.post(f"{gateway}/v1/tasks", headers=headers, timeout=30, json={
        "title": "Relancer le devis", "due_at": "2030-01-15T09:00:00+00:00", "contact_id": contact_id}))
    for n in range(list_size - 1):
        _answer(http.post(f"{gateway}/v1/contacts", headers=headers, timeout=30,
                          json={"first_name": f"Liste{n}", "last_name": "Débit"}), 201)
    return contact_id


def wait_until_readable(gateway: str, headers: dict, contact_id: str, list_size: int) -> None:
    """Until the 360 read shows every section with its seeded items, and the list page is full."""
    deadline, session = time.monotonic() + READY_TIMEOUT_S, PatientSession()
    while True:
        answer = session.get(f"{gateway}/v1/contacts/{contact_id}/360", headers=headers, timeout=30)
        sections = answer.json().get("sections", {}) if answer.status_code == 200 else {}
        counts = {name: len(sections.get(name, {}).get("items", [])) for name in EXPECTED_ITEMS}
        listed = session.get(f"{gateway}/v1/contacts", params={"limit": list_size}, headers=headers, timeout=30)
        listed_n = len(listed.json().get("items", [])) if listed.status_code == 200 else 0
        if counts == EXPECTED_ITEMS and listed_n == list_size:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"not readable after {READY_TIMEOUT_S} s: 360 sections {counts}, list {listed_n}")
        time.sleep(0.5)


def _answer(response: requests.Response, *expected: int) -> dict:
    if response.status_code not in expected:
        raise SystemExit(f"seeding: {response.request.method} {response.url} answered {response.status_code} "
                         f"{response.text[:300]}")
    return response.json() if response.content else {}


def _until_created(post) -> dict:
    """A creation that waits for a projection of the contact in another service (409 or 422 until then)."""
    deadline = time.monotonic() + 60
    while (response := post()).status_code != 201 and time.monotonic() < deadline:
        time.sleep(0.2)
    return _answer(response, 201)


def table(report: dict) -> str:
    def cells(summary: dict) -> str:
        return f"{summary['p50_ms']} / {summary['p95_ms']} / {summary['p99_ms']}"

    view = report["contact_360"]
    lines = [f"{report['at']}, {report.get('machine', machine())}, backend {report.get('database_server', '?')}, "
             f"{report['requests']} requests of each after {report['warmup']} of warm-up",
             "", "| read | through the gateway p50 / p95 / p99 ms | direct p50 / p95 / p99 ms | "
                 "gateway overhead p50 / p95 ms |", "|---|---|---|---|",
             f"| the 360 read, `GET /v1/contacts/{{id}}/360` (sections not ok: {view['sections']['not_ok']}) | "
             f"{cells(view)} | | |"]
    for name, title in (("contact", "a contact, `GET /v1/contacts/{id}`"),
                        ("list_page", f"a list page, `GET /v1/contacts?limit={report['list_size']}`")):
        pair = report[name]
        lines.append(f"| {title} | {cells(pair['proxy'])} | "
                     f"{cells(pair['direct'])} | {pair['gateway_overhead']['p50_ms']} / "
                     f"{pair['gateway_overhead']['p95_ms']} |")
    return "\n".join(lines)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parse_args(argv: list[str] | None, env: dict) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default=env.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--contacts", default=env.get("CONTACTS_URL", "http://127.0.0.1:8101"),
                        help="the contacts service, for the direct reads")
    parser.add_argument("--requests", type=positive, default=200, help="timed requests of each kind")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests of each kind first")
    parser.add_argument("--list-size", type=positive, default=50, help="contacts in the account, and the page's limit")
    parser.add_argument("--json", type=Path, help="also write the JSON report there")
    args = parser.parse_args(argv)
    if args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    env = load_env()
    args = parse_args(argv, env)
    if not env.get("INTERNAL_TOKEN"):
        raise SystemExit("no INTERNAL_TOKEN (var/dev.env or the environment): the direct reads need it")
    at = datetime.now(timezone.utc)
    account = new_account(env, f"Bench gateway reads {at:%H%M%S}")
    key_headers = {"Authorization": f"Bearer {account['api_key']}"}
    target = Target(args.gateway.rstrip("/"), args.contacts.rstrip("/"), key_headers,
                    upstream_headers(account["api_key"], account["account_id"], env["INTERNAL_TOKEN"]))
    contact_id = seed(target.gateway, key_headers, args.list_size)
    wait_until_readable(target.gateway, key_headers, contact_id, args.list_size)
    report = {"benchmark": "gateway_reads", "at": at.isoformat(timespec="seconds"), "requests": args.requests,
              "warmup": args.warmup, "list_size": args.list_size,
              "contact_360": read_360(target, contact_id, args.requests, args.warmup),
              "contact": proxy_and_direct(target, f"/v1/contacts/{contact_id}", args.requests, args.warmup),
              "list_page": proxy_and_direct(target, f"/v1/contacts?limit={args.list_size}", args.requests,
                                            args.warmup)}
    save(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
