"""The heads and histories of many aggregates: an aggregate_id equality each against a chain of `_id` lookups each.

Seeds a throwaway database with `--aggregates` aggregates of two commits (default 5,000: 10,000 commit documents),
indexes it as `make run` does (`python -m devinfra index`), then times, `--runs` times, the kernel's
`MongoEventStore.heads` and `load_each` of `--ids` aggregates (default 200, as a person's export or an import's
batch asks) both ways: the aggregate_id equalities (what a server that pushes them down gets) and the `_id`
chains (what a server that scans for them gets, FerretDB over SQLite). Prints the p50 of each; saves them and the
server's verdict (crm_platform.query_plans) as JSON under benchmarks/results/. Run with the local servers up, on either
backend:  python benchmarks/event_store_heads.py
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from pymongo import MongoClient

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "shared")]
from reporting import database_server, devinfra_index, load_env, percentile, save  # noqa: E402

from crm_platform import event_store  # noqa: E402
from crm_platform.envelope import new_envelope  # noqa: E402
from crm_platform.event_store import MongoEventStore, commit_key  # noqa: E402
from crm_platform.query_plans import server_scans_for  # noqa: E402


def commit(aggregate: str, version: int) -> dict:
    """A stored commit of one event, as the store writes it (a note of 300 characters)."""
    event = new_envelope(event_type="NoteAdded", aggregate_type="Note", aggregate_id=aggregate,
                         aggregate_version=version, account_id="acct-bench", payload={"text": "x" * 300})
    return {"_id": commit_key(aggregate, version), "aggregate_id": aggregate, "version": version,
            "last_version": version, "account_id": "acct-bench", "aggregate_type": "Note", "position": 0,
            "published": True, "events": [event.to_dict()]}


def timed_ms(read, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    return round(percentile(times, 50), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aggregates", type=int, default=5000)
    parser.add_argument("--ids", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    client = MongoClient(load_env().get("MONGO_URI") or os.environ["MONGO_URI"], tz_aware=True)
    name = f"bench_event_store_heads_{os.getpid()}"
    try:
        store = MongoEventStore(client[name])
        store.ensure_indexes()
        aggregates = [f"note-{n}" for n in range(args.aggregates)]
        for start in range(0, len(aggregates), 1000):
            client[name]["event_commits"].insert_many(
                [commit(a, v) for a in aggregates[start:start + 1000] for v in (1, 2)])
        print(f"seeded {2 * len(aggregates)} commits; {devinfra_index()}", flush=True)
        ids = random.Random(5).sample(aggregates, args.ids)
        scans = server_scans_for(client[name]["event_commits"], {"aggregate_id": ids[0]})
        report = {"benchmark": "event_store_heads", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "database_server": database_server(), "commit_documents": 2 * len(aggregates), "ids": args.ids,
                  "server_scans_for_aggregate_id": scans}
        for way, verdict in (("equalities", False), ("id_chains", True)):
            event_store.server_scans_for = lambda collection, sample, verdict=verdict: verdict
            assert len(store.heads(ids)) == args.ids and len(store.load_each(ids)) == args.ids
            report[f"heads_{way}_p50_ms"] = timed_ms(lambda: store.heads(ids), args.runs)
            report[f"load_each_{way}_p50_ms"] = timed_ms(lambda: store.load_each(ids), args.runs)
            print(f"{way}: heads p50 {report[f'heads_{way}_p50_ms']} ms, "
                  f"load_each p50 {report[f'load_each_{way}_p50_ms']} ms", flush=True)
        save(report)
    finally:
        client.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
