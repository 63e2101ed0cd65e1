"""Write-to-projection lag under a sustained write rate, through the gateway (issue 16's load figure).

An open-loop load: writes are scheduled at a fixed rate (default 50 per
second for 60 s) whatever the system's answers, and each is timed from the
moment it was *scheduled*, so a system that falls behind shows it in the
figures rather than slowing the client down (no coordinated omission).
Writes are contact creations and, for a share of them (default 20 %),
changes (PATCH with the revision) of a contact created earlier in the run.

Each write is then seen in the read model, one of two ways (`--observe`):
`api` (default) reads it back by id: `GET /v1/contacts/{id}` answers once the
read model reflects every acknowledged write (read-your-writes, docs/api.md),
so the time until it answers 200 with the written revision is the
write-to-projection lag as a client sees it, with the reads' own load on the
system; `database` leaves the API to the writes and has one observer thread
read the contacts read model by `_id` (what the gateway would read) every few
milliseconds, for the writes not seen yet (how many reads it made is in the
report: they load the database too). The report gives p50/p95/p99 of
the acknowledgement and of that lag (and that lag's p50 and max in each
5 s of the run), the rate reached, late starts and errors, the CPU seconds
each part of the system used over the run, and saves JSON under
benchmarks/results/.

Run against a system started with `make run` (it reads the demo key from
var/demo-account.json), or pass --gateway and --api-key.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from reporting import cpu_seconds_by_process, cpu_used, load_env, percentile, save  # noqa: E402


@dataclass
class Outcome:
    kind: str  # "create" or "update"
    scheduled: float
    started: float
    acknowledged: float | None = None
    readable: float | None = None
    error: str | None = None


PHONE_NUMBERS = 90_000_000  # +33 7 10 00 00 00 to +33 7 99 99 99 99


class Writer:
    """Creates and changes contacts, keeping the ones it made so later writes can change them."""

    def __init__(self, gateway: str, api_key: str, update_share: float, read_timeout_s: float,
                 observer: "ReadModelObserver | None" = None) -> None:
        self._observer = observer
        self._gateway = gateway
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._update_share = update_share
        self._read_timeout_s = read_timeout_s
        # Emails and phones must not be those of an earlier run on the same database (the API refuses duplicates):
        # a random tag, and a random start for this run's phone numbers among 90 million (two runs of 3,000 writes
        # overlap once in about 15,000). 90 of 100 chose among 90 tags, and a long-lived database met 409s.
        self._run = random.getrandbits(32)
        self._first_phone = random.randrange(PHONE_NUMBERS - 1_000_000)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._idle: list[tuple[str, int]] = []  # (contact id, revision) not being changed right now

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def write(self, i: int, scheduled: float) -> Outcome:
        contact = self._take_for_update() if random.random() < self._update_share else None
        outcome = Outcome("update" if contact else "create", scheduled, time.perf_counter())
        try:
            if contact:
                contact_id, revision = contact
                answer = self._session().patch(f"{self._gateway}/v1/contacts/{contact_id}", headers=self._headers,
                                               json={"revision": revision, "job_title": f"Poste {i}"}, timeout=30)
            else:
                answer = self._session().post(f"{self._gateway}/v1/contacts", headers=self._headers,
                                              json=self._new_contact(i), timeout=30)
            outcome.acknowledged = time.perf_counter()
            if answer.status_code not in (200, 201):
                outcome.error = f"{'PATCH' if contact else 'POST'} {answer.status_code}"
                return outcome
            written = answer.json()
            if self._observer:
                self._observer.wait_for(written["id"], written["revision"], outcome, self._read_timeout_s)
            else:
                self._read_back(written["id"], written["revision"], outcome)
            if outcome.error is None:
                self._give_back(written["id"], written["revision"])
        except requests.RequestException as exc:
            outcome.error = type(exc).__name__
        return outcome

    def _read_back(self, contact_id: str, revision: int, outcome: Outcome) -> None:
        url = f"{self._gateway}/v1/contacts/{contact_id}"
        deadline = outcome.started + self._read_timeout_s
        while time.perf_counter() < deadline:
            read = self._session().get(url, headers=self._headers, timeout=30)
            if read.status_code == 200 and read.json().get("revision", 0) >= revision:
                outcome.readable = time.perf_counter()
                return
            if read.status_code not in (200, 404, 503):  # 503: the read model is behind, retry
                outcome.error = f"GET {read.status_code}"
                return
            time.sleep(0.005)
        outcome.error = "not readable in time"

    def _new_contact(self, i: int) -> dict:
        # Emails and phones are unique per run and contact: the API refuses duplicates (409).
        return {"first_name": f"Charge{i}", "last_name": "Desnotés", "company": "Maison du Papier",
                "emails": [{"address": f"charge{i}.run{self._run:08x}@example.fr"}],
                "phones": [{"number": "+33 7 " + " ".join(f"{10_000_000 + self._first_phone + i:08d}"[n:n + 2]
                                                          for n in range(0, 8, 2))}]}

    def _take_for_update(self) -> tuple[str, int] | None:
        with self._lock:
            return self._idle.pop(random.randrange(len(self._idle))) if self._idle else None

    def _give_back(self, contact_id: str, revision: int) -> None:
        with self._lock:
            self._idle.append((contact_id, revision))


class ReadModelObserver:
    """One thread reading the contacts read model by `_id` for the writes not seen there yet."""

    def __init__(self, collection, pause_s: float = 0.002) -> None:
        self._collection = collection
        self._pause_s = pause_s
        self.reads = 0  # its own load on the database, in the report
        self._pending: dict[str, tuple[int, threading.Event, list]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def wait_for(self, contact_id: str, revision: int, outcome: Outcome, timeout_s: float) -> None:
        seen, when = threading.Event(), []
        with self._lock:
            self._pending[contact_id] = (revision, seen, when)
        if seen.wait(max(0.0, outcome.started + timeout_s - time.perf_counter())):
            outcome.readable = when[0]
        else:
            with self._lock:
                self._pending.pop(contact_id, None)
            outcome.error = "not readable in time"

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pending = list(self._pending.items())
            for contact_id, (revision, seen, when) in pending:
                doc = self._collection.find_one({"_id": contact_id}, {"version": 1})
                self.reads += 1
                if doc is not None and doc.get("version", 0) >= revision:
                    when.append(time.perf_counter())
                    with self._lock:
                        self._pending.pop(contact_id, None)
                    seen.set()
            time.sleep(self._pause_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def summary(values: list[float]) -> dict:
    if not values:
        return {}
    ms = [v * 1000 for v in values]
    return {"p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1),
            "mean_ms": round(statistics.mean(ms), 1)}


def run_load(writer: Writer, rate: float, seconds: float, max_in_flight: int) -> tuple[list[Outcome], float]:
    total = int(rate * seconds)
    interval = 1 / rate
    futures = []
    with ThreadPoolExecutor(max_workers=max_in_flight) as pool:
        began = time.perf_counter()
        for i in range(total):
            scheduled = began + i * interval
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            futures.append(pool.submit(writer.write, i, scheduled))
            if (i + 1) % max(1, int(rate * 10)) == 0:
                print(f"  {i + 1}/{total} scheduled, {sum(f.done() for f in futures)} done", flush=True)
        outcomes = [f.result() for f in futures]
    return outcomes, time.perf_counter() - began


def report_of(outcomes: list[Outcome], elapsed: float, args: argparse.Namespace) -> dict:
    ok = [o for o in outcomes if o.error is None]
    errors: dict[str, int] = {}
    for o in outcomes:
        if o.error:
            errors[o.error] = errors.get(o.error, 0) + 1
    late = [o.started - o.scheduled for o in outcomes]
    return {
        "benchmark": "sustained_writes",
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rate_per_s": args.rate, "observe": args.observe, "seconds": args.seconds, "update_share": args.update_share,
        "writes": len(outcomes), "creates": sum(o.kind == "create" for o in outcomes),
        "updates": sum(o.kind == "update" for o in outcomes),
        "elapsed_s": round(elapsed, 1), "readable_per_s": round(len(ok) / elapsed, 1),
        "errors": errors,
        "start_late_by": summary(late),
        # From the moment each write was scheduled: waiting for a free client counts, as it would for a user.
        "acknowledged": summary([o.acknowledged - o.scheduled for o in ok]),
        "write_to_projection": summary([o.readable - o.scheduled for o in ok]),
        "write_to_projection_after_ack": summary([o.readable - o.acknowledged for o in ok]),
        "write_to_projection_first_tenth": summary([o.readable - o.scheduled for o in ok[: max(1, len(ok) // 10)]]),
        "write_to_projection_last_tenth": summary([o.readable - o.scheduled for o in ok[-max(1, len(ok) // 10):]]),
        "write_to_projection_by_window": by_window(ok, outcomes[0].scheduled if outcomes else 0.0),
    }


def by_window(ok: list[Outcome], began: float, window_s: float = 5.0) -> list[dict]:
    """The lag of the writes scheduled in each `window_s` of the run (p50 and max, ms): whether a tail is spread
    over the run or comes from a few moments (a stall of one part, a periodic task)."""
    windows: dict[int, list[float]] = {}
    for o in ok:
        windows.setdefault(int((o.scheduled - began) // window_s), []).append((o.readable - o.scheduled) * 1000)
    return [{"from_s": index * window_s, "writes": len(lags), "p50_ms": round(percentile(lags, 50), 1),
             "max_ms": round(max(lags), 1)} for index, lags in sorted(windows.items())]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--api-key", default=os.environ.get("CRM_API_KEY"))
    parser.add_argument("--rate", type=float, default=50.0, help="writes scheduled per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the rate is held")
    parser.add_argument("--update-share", type=float, default=0.2, help="share of writes that change a contact")
    parser.add_argument("--max-in-flight", type=int, default=64, help="client threads (writes in flight at most)")
    parser.add_argument("--read-timeout-s", type=float, default=60.0)
    parser.add_argument("--observe", choices=("api", "database"), default="api",
                        help="see each write by reading it back through the gateway, or in the read model directly")
    args = parser.parse_args()
    key = args.api_key or json.loads((REPO / "var" / "demo-account.json").read_text())["api_key"]
    observer = None
    if args.observe == "database":
        from pymongo import MongoClient
        env = load_env()
        observer = ReadModelObserver(MongoClient(env["MONGO_URI"])[env.get("CONTACTS_DB", "crm_contacts")]["contacts"])
    writer = Writer(args.gateway, key, args.update_share, args.read_timeout_s, observer)
    print(f"{args.rate:g} writes/s for {args.seconds:g} s through {args.gateway}, observed by {args.observe}...",
          flush=True)
    cpu_before = cpu_seconds_by_process()
    outcomes, elapsed = run_load(writer, args.rate, args.seconds, args.max_in_flight)
    if observer:
        observer.close()
    # CPU seconds each part of the system used over the run (this client's own threads are not counted)
    save({**report_of(outcomes, elapsed, args), "cpu_s": cpu_used(cpu_before, cpu_seconds_by_process()),
          **({"observer_reads": observer.reads} if observer else {})})
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
