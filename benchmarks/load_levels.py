"""Load through the gateway at fixed rates (issue 15 item 7): reads at 50, 100 and 200 per second and writes at
25, 50 and 100 per second, each level for --seconds (default 20), with p50/p95/p99 latency and the error rate,
and under each write level the write-to-projection lag p99.

- Reads cycle through three kinds: a contact by id, a list page (`GET /v1/contacts?limit=25`) and the contact's
  360 read (`GET /v1/contacts/{id}/360`; left out, and said so, when the gateway does not serve it).
- Writes create contacts (`POST /v1/contacts`, each with its own email and phone).
- Lag: one write in --lag-every (default 5) is followed by reads of `GET /v1/contacts/{id}` every 10 ms until it
  answers 200 (the read model has it): the time from sending the POST to that answer, as
  benchmarks/write_to_projection.py measures it. Those polls are extra load, counted in no level's figures.

The load is open-loop: request i of a level is due at start + i / rate, sent then by whichever of the sender
threads is free, and its latency counts from when it was due. A system that falls behind shows it as latency
(and an achieved rate below the target), instead of slowing the sender down with it (coordinated omission).
An error is a request that got no answer, or an answer of 400 or more; 429s (rate limits) are also counted
apart. The client shares the machine with the system: on 2 cores it takes part of one.

Run against `make run` started with rate limits raised above the levels, for example:
  RATE_LIMIT_KEY_PER_SECOND=1000 RATE_LIMIT_KEY_PER_MINUTE=100000 RATE_LIMIT_ACCOUNT_PER_MINUTE=100000 make run
then:  python benchmarks/load_levels.py [--seconds 20] [--reads 50,100,200] [--writes 25,50,100]
It makes a new account (and 200 contacts to read), prints a table and saves JSON under benchmarks/results/.
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO)]
from find_contacts import new_account  # noqa: E402
from reporting import load_env, percentile, save  # noqa: E402

RequestFn = Callable[[requests.Session, int], "Answer"]
MAX_SENDERS = 96


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int | None  # None: no answer (connection refused, reset, timed out)
    contact_id: str | None = None  # of a created contact


@dataclass
class Level:
    """What one level measured: (seconds from due to answer, answer) per request, and how long sending took."""
    name: str
    rate: float
    results: list[tuple[float, Answer]] = field(default_factory=list)
    elapsed_s: float = 0.0

    def summary(self) -> dict:
        latencies = [seconds * 1000 for seconds, _ in self.results]
        failed = [answer for _, answer in self.results if answer.status is None or answer.status >= 400]
        by_kind: dict[str, list[float]] = {}
        for seconds, answer in self.results:
            by_kind.setdefault(answer.kind, []).append(seconds * 1000)
        return {"level": self.name, "target_per_s": self.rate, "requests": len(self.results),
                "achieved_per_s": round(len(self.results) / self.elapsed_s, 1) if self.elapsed_s else 0,
                **_percentiles(latencies),
                "error_rate": round(len(failed) / len(self.results), 4) if self.results else None,
                "rate_limited": sum(1 for answer in failed if answer.status == 429),
                "by_kind": {kind: _percentiles(values) for kind, values in sorted(by_kind.items())}}


def _percentiles(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {f"p{q}_ms": round(percentile(values_ms, q), 1) for q in (50, 95, 99)}


def open_loop(name: str, rate: float, seconds: float, send: RequestFn,
              after: Callable[[Answer, float], None] = lambda answer, sent_at: None) -> Level:
    """Send `rate` requests a second for `seconds`, request i due at start + i / rate (see the module's doc);
    `after(answer, sent_at)` is called with each answer and the perf_counter time it was sent."""
    level, total, slots, lock = Level(name, rate), int(rate * seconds), itertools.count(), threading.Lock()
    start = time.perf_counter() + 0.2

    def sender() -> None:
        session = requests.Session()
        while (i := next(slots)) < total:
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            sent_at = time.perf_counter()
            answer = send(session, i)
            answered = time.perf_counter()
            with lock:
                level.results.append((answered - due, answer))
            after(answer, sent_at)

    senders = [threading.Thread(target=sender, daemon=True) for _ in range(min(MAX_SENDERS, max(4, int(rate))))]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    level.elapsed_s = time.perf_counter() - start
    return level


class Load:
    """The account's gateway, key and contacts, and the requests of each kind."""

    def __init__(self, gateway: str, api_key: str, run: str) -> None:
        self.gateway, self.run = gateway, run
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.contact_ids: list[str] = []
        self.read_kinds = ["contact", "list"]
        self.writes = itertools.count()

    def create(self, session: requests.Session, i: int) -> Answer:
        n = next(self.writes)
        body = {"first_name": f"Charge{n}", "last_name": "Débit", "company": "Atelier de charge",
                "emails": [{"address": f"charge{n}.{self.run}@example.fr"}],
                "phones": [{"number": f"+33 7 {n // 1000000 % 100:02d} {n // 10000 % 100:02d} "
                                      f"{n // 100 % 100:02d} {n % 100:02d}"}]}
        try:
            answer = session.post(f"{self.gateway}/v1/contacts", json=body, headers=self.headers, timeout=30)
        except requests.RequestException:
            return Answer("create", None)
        contact_id = answer.json().get("id") if answer.status_code == 201 else None
        return Answer("create", answer.status_code, contact_id)

    def read(self, session: requests.Session, i: int) -> Answer:
        kind = self.read_kinds[i % len(self.read_kinds)]
        contact_id = random.choice(self.contact_ids)
        path = {"contact": f"/v1/contacts/{contact_id}", "list": "/v1/contacts?limit=25",
                "360": f"/v1/contacts/{contact_id}/360"}[kind]
        try:
            return Answer(kind, session.get(f"{self.gateway}{path}", headers=self.headers, timeout=30).status_code)
        except requests.RequestException:
            return Answer(kind, None)

    def seed(self, count: int) -> None:
        """`count` contacts to read, readable before the reads start; the 360 read among the kinds if served."""
        with ThreadPoolExecutor(8) as pool:
            created = list(pool.map(lambda i: self.create(requests.Session(), i), range(count)))
        self.contact_ids = [answer.contact_id for answer in created if answer.contact_id]
        if len(self.contact_ids) < count:
            raise SystemExit(f"seeding: {count - len(self.contact_ids)} of {count} creations failed "
                             f"(statuses {sorted({a.status for a in created if not a.contact_id}, key=str)})")
        session = requests.Session()
        for contact_id in self.contact_ids:
            while session.get(f"{self.gateway}/v1/contacts/{contact_id}", headers=self.headers,
                              timeout=30).status_code != 200:
                time.sleep(0.05)
        served = session.get(f"{self.gateway}/v1/contacts/{self.contact_ids[0]}/360", headers=self.headers, timeout=30)
        if served.status_code == 200:
            self.read_kinds.append("360")
        else:
            print(f"the 360 read answered {served.status_code}: reads are contact by id and list page only")


class LagProbe:
    """Write-to-projection lag of sampled writes, polled on threads of its own."""

    def __init__(self, load: Load, every: int) -> None:
        self.load, self.every = load, every
        self.pool = ThreadPoolExecutor(16)
        self.lags_ms: list[float] = []
        self.lost = 0
        self.answers = itertools.count(1)
        self.sessions = threading.local()

    def after(self, answer: Answer, sent_at: float) -> None:
        if answer.contact_id and next(self.answers) % self.every == 0:
            self.pool.submit(self._poll, answer.contact_id, sent_at)

    def _poll(self, contact_id: str, sent_at: float) -> None:
        session = getattr(self.sessions, "session", None) or requests.Session()
        self.sessions.session = session
        url = f"{self.load.gateway}/v1/contacts/{contact_id}"
        while time.perf_counter() - sent_at < 120:
            try:
                if session.get(url, headers=self.load.headers, timeout=30).status_code == 200:
                    self.lags_ms.append((time.perf_counter() - sent_at) * 1000)
                    return
            except requests.RequestException:
                pass
            time.sleep(0.01)
        self.lost += 1

    def finish(self) -> dict:
        self.pool.shutdown(wait=True)
        return {"sampled": len(self.lags_ms) + self.lost, "not_visible_after_120_s": self.lost,
                **{f"lag_{name}": value for name, value in _percentiles(self.lags_ms).items()}}


def rates(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def table(levels: list[dict]) -> str:
    lines = ["| level | target/s | achieved/s | p50 / p95 / p99 ms | errors | write-to-projection lag p99 ms |",
             "|---|---|---|---|---|---|"]
    for level in levels:
        lag = level.get("lag", {}).get("lag_p99_ms")
        lines.append(f"| {level['level']} | {level['target_per_s']:g} | {level['achieved_per_s']} | "
                     f"{level['p50_ms']} / {level['p95_ms']} / {level['p99_ms']} | "
                     f"{100 * (level['error_rate'] or 0):.2f} % | {'' if lag is None else lag} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each level lasts")
    parser.add_argument("--reads", type=rates, default=rates("50,100,200"), help="read levels, per second")
    parser.add_argument("--writes", type=rates, default=rates("25,50,100"), help="write levels, per second")
    parser.add_argument("--lag-every", type=int, default=5, help="measure the lag of one write in this many")
    parser.add_argument("--contacts", type=int, default=200, help="contacts created first, to read")
    args = parser.parse_args()
    at = datetime.now(timezone.utc)
    account = new_account(load_env(), f"Bench load {at:%H%M%S}")
    load = Load(args.gateway, account["api_key"], f"{at:%Y%m%d%H%M%S}")
    load.seed(args.contacts)
    levels = []
    for rate in args.reads:
        levels.append(open_loop(f"reads ({', '.join(load.read_kinds)})", rate, args.seconds, load.read).summary())
        print(table(levels[-1:]).splitlines()[-1], flush=True)
    for rate in args.writes:
        probe = LagProbe(load, args.lag_every)
        level = open_loop("writes (create contact)", rate, args.seconds, load.create, probe.after).summary()
        levels.append({**level, "lag": probe.finish()})
        print(table(levels[-1:]).splitlines()[-1], flush=True)
    print(table(levels))
    save({"benchmark": "load_levels", "at": at.isoformat(timespec="seconds"), "seconds_per_level": args.seconds,
          "levels": levels})
    return 0


if __name__ == "__main__":
    sys.exit(main())
