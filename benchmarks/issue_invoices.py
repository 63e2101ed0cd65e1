"""Issuing invoices through the gateway, several at once (issue 10): invoices/s, latency, and gapless numbers.

Each run creates a new account with a French seller's billing settings and a few contacts (default 10), waits
until billing's projection knows each one (billing refuses an invoice for a contact it has not heard of), then
times two phases, each on T client threads (default 4):
- drafts: N drafts (default 10,000), POST /v1/invoices, round robin over the contacts (two lines, 20 % and 5.5 %);
- issues: each draft issued, POST /v1/invoices/{id}/issue: the account's next number, race-free.
Prints the requests/s of each phase over its wall time, p50/p95/p99 per request, the errors by status, then the
issue's invariant under concurrency: the numbers returned, and the numbers the invoice list shows once billing's
read model caught up, are unique and gapless (1..N of the fiscal year's series). An issue that failed (a 504 on
an overloaded machine) is sent again after the timed phase (issuing is retry-safe), so the check covers every
draft. Saves JSON under benchmarks/results/ with the database server and the machine.

Run against a system started with `make run`:
  python benchmarks/issue_invoices.py [--invoices 10000] [--threads 4] [--contacts 10]
A 429 (make run's rate limits) is waited out as its Retry-After says, counted, and never timed.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO)]
from reporting import PatientSession, load_env, percentile, save  # noqa: E402
from find_contacts import new_account  # noqa: E402

SELLER = {"revision": 0, "time_zone": "Europe/Paris", "default_currency": "EUR",
          "seller": {"name": "Agence Banc d'Essai SAS", "siren": "732829320", "vat_number": "FR44732829320",
                     "address": {"street": ["12 rue de la Paix"], "postal_code": "75002", "city": "Paris",
                                 "country": "FR"}}}
LINES = [{"description": "Création du site", "quantity": "2", "unit": "jour", "unit_price": "500.00",
          "taxes": [{"category": "S", "rate": "20"}]},
         {"description": "Livre", "quantity": "3", "unit": "pièce", "unit_price": "12.90",
          "taxes": [{"category": "S", "rate": "5.5"}]}]
NUMBER = re.compile(r"^(?P<series>.*?)(?P<n>\d+)$")  # F-2026-0001: the series "F-2026-", its 1st number


def _ok(answer: requests.Response, status: int = 200) -> dict:
    if answer.status_code != status:
        raise RuntimeError(f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


@dataclass
class Phase:
    """The requests of one timed phase: each one's milliseconds, what answered otherwise, and the 429s waited out."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    rate_limited: int = 0
    wall_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed_post(self, session: requests.Session, url: str, headers: dict, status: int, **kwargs) -> dict | None:
        """The answer's body if `status`, else None (counted as an error); a 429 is waited out, not timed."""
        while True:
            started = time.perf_counter()
            try:
                answer = session.post(url, headers=headers, timeout=120, **kwargs)
            except requests.RequestException as exc:
                return self._failed(type(exc).__name__, str(exc))
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 429:
                break
            with self.lock:
                self.rate_limited += 1
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        if answer.status_code != status:
            return self._failed(str(answer.status_code), answer.text)
        with self.lock:
            self.latencies_ms.append(elapsed)
        return answer.json()

    def _failed(self, kind: str, text: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{kind}: {text[:200]}")
        return None

    def summary(self) -> dict:
        done = len(self.latencies_ms)
        figures = {"p50": round(percentile(self.latencies_ms, 50), 1), "p95": round(percentile(self.latencies_ms, 95), 1),
                   "p99": round(percentile(self.latencies_ms, 99), 1)} if done else None
        return {"requests_ok": done, "wall_s": round(self.wall_s, 2),
                "per_s": round(done / self.wall_s, 1) if self.wall_s else None, "latency_ms": figures,
                "errors": dict(self.errors), "error_samples": self.error_samples, "rate_limited_429": self.rate_limited}


def on_threads(threads: int, work, items: list) -> tuple[list, float]:
    """`work(session, item)` for each item on `threads` threads, each with its own session; results, wall seconds."""
    local = threading.local()

    def one(item):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return work(local.session, item)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, items))
    return results, time.perf_counter() - started


def known_contacts(session: requests.Session, gateway: str, headers: dict, count: int, wait_s: float) -> list[str]:
    """`count` new contacts, each once billing's projection knows it: a draft for it is accepted (then deleted,
    a draft has no number)."""
    ids = [_ok(session.post(f"{gateway}/v1/contacts", headers=headers, timeout=30, json={
        "first_name": "Louise", "last_name": f"Banc d'essai {i}", "company": f"Client {i} SARL",
        "addresses": [{"tag": "billing", "street": [f"{i} rue Neuve"], "postal_code": "59000", "city": "Lille",
                       "country": "FR"}]}), 201)["id"] for i in range(count)]
    deadline = time.monotonic() + wait_s
    for contact_id in ids:
        while True:
            answer = session.post(f"{gateway}/v1/invoices", headers=headers, timeout=30,
                                  json={"contact_id": contact_id, "lines": LINES})
            if answer.status_code == 201 or time.monotonic() > deadline:
                probe = _ok(answer, 201)
                break
            time.sleep(0.2)
        answer = session.delete(f"{gateway}/v1/invoices/{probe['id']}", headers=headers, timeout=30)
        if answer.status_code != 204:
            raise RuntimeError(f"deleting the probe draft {probe['id']}: {answer.status_code} {answer.text[:300]}")
    return ids


def numbering_check(numbers: list[str | None], expected: int) -> dict:
    """Whether `numbers` are `expected` numbers, unique, each series 1..n without a gap."""
    given = [number for number in numbers if number]
    series: dict[str, list[int]] = {}
    for number in given:
        match = NUMBER.match(number)
        series.setdefault(match["series"] if match else number, []).append(int(match["n"]) if match else -1)
    missing = {name: sorted(set(range(1, len(ns) + 1)) - set(ns))[:10] for name, ns in series.items()}
    missing = {name: numbers for name, numbers in missing.items() if numbers}  # the first ten of each series
    unique = len(set(given)) == len(given)
    return {"count": len(given), "expected": expected, "unique": unique, "gapless": not missing,
            "series": {name: len(ns) for name, ns in sorted(series.items())}, "missing": missing,
            "ok": len(given) == expected and unique and not missing}


def listed_numbers(session: requests.Session, gateway: str, headers: dict, expected: int, wait_s: float) -> list:
    """Every invoice number the account's list shows, read again until it shows `expected` (or `wait_s` passed)."""
    deadline = time.monotonic() + wait_s
    while True:
        numbers, cursor = [], None
        while True:
            page = _ok(session.get(f"{gateway}/v1/invoices", headers=headers, timeout=120,
                                   params={"limit": 200, **({"cursor": cursor} if cursor else {})}))
            numbers += [invoice["number"] for invoice in page["items"] if invoice["number"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        if len(numbers) >= expected or time.monotonic() > deadline:
            return numbers
        time.sleep(1)


def run(gateway: str, headers: dict, invoices: int, threads: int = 4, contacts: int = 10,
        wait_s: float = 300) -> dict:
    """Drafts then issues of `invoices` invoices in the account of `headers`; the report (without where it ran)."""
    session = PatientSession()
    _ok(session.patch(f"{gateway}/v1/billing-settings", headers=headers, timeout=30, json=SELLER))
    contact_ids = known_contacts(session, gateway, headers, contacts, wait_s)
    drafts, issues = Phase(), Phase()
    print(f"timing {invoices} drafts on {threads} threads...", flush=True)
    drafted, drafts.wall_s = on_threads(threads, lambda s, i: drafts.timed_post(
        s, f"{gateway}/v1/invoices", headers, 201, json={"contact_id": contact_ids[i % contacts], "lines": LINES}),
        list(range(invoices)))
    draft_ids = [draft["id"] for draft in drafted if draft]
    print(f"timing {len(draft_ids)} issues on {threads} threads...", flush=True)
    issued, issues.wall_s = on_threads(threads, lambda s, invoice_id: issues.timed_post(
        s, f"{gateway}/v1/invoices/{invoice_id}/issue", headers, 200), draft_ids)
    returned = {invoice_id: answer["number"] for invoice_id, answer in zip(draft_ids, issued) if answer}
    sent_again = [invoice_id for invoice_id in draft_ids if invoice_id not in returned]
    for invoice_id in sent_again:  # issuing is retry-safe: what failed is finished, not timed, so all are checked
        returned[invoice_id] = _ok(session.post(f"{gateway}/v1/invoices/{invoice_id}/issue", headers=headers,
                                                timeout=120))["number"]
    listed = listed_numbers(session, gateway, headers, len(draft_ids), wait_s)
    return {"benchmark": "issue_invoices", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "gateway": gateway, "invoices": invoices, "threads": threads, "contacts": contacts,
            "lines_per_invoice": len(LINES), "drafts": drafts.summary(), "issues": issues.summary(),
            "issues_sent_again_after_an_error": len(sent_again),
            "numbers_returned": numbering_check(list(returned.values()), len(draft_ids)),
            "numbers_listed": {**numbering_check(listed, len(draft_ids)),
                               "same_as_returned": sorted(listed) == sorted(returned.values())}}


def main(argv: list[str] | None = None, env: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--invoices", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=4, help="client threads of each timed phase")
    parser.add_argument("--contacts", type=int, default=10, help="contacts the invoices are for, in turn")
    args = parser.parse_args(argv)
    if min(args.invoices, args.threads, args.contacts) < 1:
        parser.error("--invoices, --threads and --contacts must be at least 1")
    account = new_account(env or load_env(), f"Bench invoices {datetime.now(timezone.utc):%H%M%S}")
    report = run(args.gateway, {"Authorization": f"Bearer {account['api_key']}"}, args.invoices, args.threads,
                 args.contacts)
    save(report)
    issues, check = report["issues"], report["numbers_listed"]
    print(f"{args.invoices} invoices on {args.threads} threads: {issues['per_s']} issues/s, "
          f"p50/p95/p99 {issues['latency_ms']} ms, errors {issues['errors']}; numbers unique {check['unique']}, "
          f"gapless {check['gapless']}, {check['count']}/{check['expected']} listed", flush=True)
    return 0 if report["numbers_returned"]["ok"] and check["ok"] and check["same_as_returned"] else 1


if __name__ == "__main__":
    sys.exit(main())
