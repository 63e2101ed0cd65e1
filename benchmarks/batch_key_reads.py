"""Reading a batch's personal-data keys: one `$in` against `_id` equalities, by the size of the key vault.

For each vault size (default 1,000, 10,000 and 50,000 subjects' keys, each in a throwaway
database dropped at the end, indexed once by `python -m devinfra index` as `make run`
keeps it), times reading K keys (default 200: a polled batch of an import's events) five
times and prints the medians:
- one `find({"_id": {"$in": [...]}})`;
- K `find_one({"_id": ...})` in a row;
- `crm_platform.mongo.find_by_ids` (K equalities on its threads: what the worker does).
    eval "$(python -m devinfra env)"; python benchmarks/batch_key_reads.py [--sizes 1000 10000 50000] [--keys 200]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from pymongo import MongoClient

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "benchmarks"))
from reporting import devinfra_index, save  # noqa: E402


def median_ms(read, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        read()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def measure(client: MongoClient, size: int, keys: int) -> dict:
    from crm_platform.mongo import find_by_ids
    from crm_platform.personal_data import MongoSubjectKeyStore

    name = f"bench_keys_{uuid.uuid4().hex[:8]}"
    vault = client[name]["subject_keys"]
    store = MongoSubjectKeyStore(vault, os.urandom(32))
    try:
        subjects = [f"contact:{uuid.uuid4()}" for _ in range(size)]
        for start in range(0, size, 2000):
            store.find_or_create_many(subjects[start:start + 2000])
        indexed = devinfra_index()
        rng = random.Random(size)
        picks = lambda: rng.sample(subjects, keys)  # noqa: E731
        return {
            "vault_keys": size,
            "devinfra_index": indexed,
            "one_in_ms": median_ms(lambda: list(vault.find({"_id": {"$in": picks()}}))),
            "equalities_in_a_row_ms": median_ms(lambda: [vault.find_one({"_id": s}) for s in picks()]),
            "find_by_ids_ms": median_ms(lambda: find_by_ids(vault, picks())),
        }
    finally:
        client.drop_database(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--keys", type=int, default=200)
    args = parser.parse_args()
    client = MongoClient(os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27117/"))
    report = {"benchmark": "batch_key_reads", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "keys": args.keys, "runs": []}
    for size in args.sizes:
        report["runs"].append(measure(client, size, args.keys))
        print(report["runs"][-1], flush=True)
    save(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
