"""Loading one aggregate from the event store: one query by aggregate_id against one `_id` lookup per commit.

Seeds a throwaway database with `--aggregates` aggregates of `--commits` commits each (default 50 x 200: 10,000
commit documents), then times, `--runs` times, loading one aggregate both ways. Prints the p50 of each and saves
JSON under benchmarks/results/. Run with the local servers up:  python benchmarks/event_store_load.py
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from pymongo import ASCENDING, MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reporting import load_env, percentile, save  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aggregates", type=int, default=50)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    client = MongoClient(load_env().get("MONGO_URI") or os.environ["MONGO_URI"])
    name = f"bench_event_store_load_{os.getpid()}"
    commits = client[name]["event_commits"]
    try:
        commits.create_index([("aggregate_id", ASCENDING), ("version", ASCENDING)], unique=True)
        commits.insert_many([{"_id": f"agg{a}:{v}", "aggregate_id": f"agg{a}", "version": v, "last_version": v,
                              "events": [{"payload": "x" * 300}]}
                             for a in range(args.aggregates) for v in range(1, args.commits + 1)])
        by_id, by_query = [], []
        for run in range(args.runs):
            target = f"agg{run % args.aggregates}"
            start, version = time.perf_counter(), 1
            while (commit := commits.find_one({"_id": f"{target}:{version}"})) is not None:
                version = commit["last_version"] + 1
            by_id.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            list(commits.find({"aggregate_id": target}))
            by_query.append((time.perf_counter() - start) * 1000)
        save({"benchmark": "event_store_load", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "commit_documents": args.aggregates * args.commits, "commits_per_aggregate": args.commits,
              "id_lookups_p50_ms": round(percentile(by_id, 50)), "one_query_p50_ms": round(percentile(by_query, 50))})
    finally:
        client.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
