"""Write-to-projection latency through the gateway: POST a contact, then poll until the read model shows it.

Measures, for N contact creations (default 1,000), the time from sending the
POST to the first GET /v1/contacts/{id} that answers 200 -- the whole path:
gateway -> contacts api -> event store -> outbox relay -> Kafka -> projection
consumer -> MongoDB read model -> gateway. Prints p50/p95/p99 and saves JSON
under benchmarks/results/.

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
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from reporting import percentile, save  # noqa: E402


def one_contact(session: requests.Session, gateway: str, headers: dict, run: int, i: int, poll_s: float,
                timeout_s: float):
    # Emails and phones are unique per run and contact: the API refuses duplicates (409).
    body = {"first_name": f"Bench{i}", "last_name": "Desnotés", "company": "Maison du Papier",
            "emails": [{"address": f"bench{i}.run{run}@example.fr"}],
            "phones": [{"number": f"+33 6 {run:02d} {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}"}]}
    started = time.perf_counter()
    created = session.post(f"{gateway}/v1/contacts", json=body, headers=headers, timeout=30)
    acknowledged = time.perf_counter()
    created.raise_for_status()
    url = f"{gateway}/v1/contacts/{created.json()['id']}"
    while True:
        if session.get(url, headers=headers, timeout=30).status_code == 200:
            return acknowledged - started, time.perf_counter() - started
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"contact {i} not in the projection after {timeout_s} s")
        time.sleep(poll_s)


def summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1), "mean_ms": round(statistics.mean(ms), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--api-key", default=os.environ.get("CRM_API_KEY"))
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1, help="clients creating contacts at once")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="pause between reads while waiting")
    parser.add_argument("--timeout-s", type=float, default=60.0)
    args = parser.parse_args()
    key = args.api_key or json.loads((REPO / "var" / "demo-account.json").read_text())["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    sessions = [requests.Session() for _ in range(args.concurrency)]

    print(f"creating {args.count} contacts through {args.gateway} with {args.concurrency} client(s)...", flush=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        run = random.randrange(10, 100)
        futures = [pool.submit(one_contact, sessions[i % args.concurrency], args.gateway, headers, run, i,
                               args.poll_ms / 1000, args.timeout_s) for i in range(args.count)]
        results = []
        for done, future in enumerate(futures, start=1):
            results.append(future.result())
            if done % max(1, args.count // 10) == 0:
                print(f"  {done}/{args.count}", flush=True)
    elapsed = time.perf_counter() - started

    report = {
        "benchmark": "write_to_projection",
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "contacts": args.count,
        "concurrency": args.concurrency,
        "elapsed_s": round(elapsed, 1),
        "contacts_per_s": round(args.count / elapsed, 1),
        "post_acknowledged": summary([r[0] for r in results]),
        "write_to_projection": summary([r[1] for r in results]),
        # Does latency grow with the data? p50 of the first and the last tenth of the run.
        "write_to_projection_first_tenth_p50_ms": summary([r[1] for r in results[: max(1, args.count // 10)]])["p50_ms"],
        "write_to_projection_last_tenth_p50_ms": summary([r[1] for r in results[-max(1, args.count // 10):]])["p50_ms"],
    }
    save(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
