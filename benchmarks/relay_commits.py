"""The outbox relay sending an import's commits to Kafka: commits per second, and where the time goes.

Against the servers of `devinfra env` (or MONGO_URI / KAFKA_BOOTSTRAP_SERVERS), in a throwaway database and
topic (unique names, dropped and deleted at the end): stores N one-event commits (default 4,000) with the event
store's bulk path, 500 at a time, as an import's job does (each event about 1 KB, as a contact's), runs
`python -m devinfra index` once (the GIN indexes `make run` keeps; nothing to do on another server), then the
kernel's OutboxRelay until nothing is left to send and every commit is marked published. Commits per second =
N / (first batch -> last commit marked). Prints each batch's time, and with `--profile` the relay's functions by
cumulative time (cProfile).

Runs whatever code is importable: to measure another commit, run it with PYTHONPATH=<that commit's>/shared.
    eval "$(python -m devinfra env)"; python benchmarks/relay_commits.py [--commits 4000] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from reporting import devinfra_index, save  # noqa: E402

PAYLOAD = {"first_name": "x" * 40, "last_name": "y" * 40, "emails": [{"address": "a" * 60}],
           "phones": [{"number": "0612345678"}], "addresses": [{"street": ["1 rue de la Paix"], "city": "Lille"}],
           "sealed": "z" * 600}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=4000)
    parser.add_argument("--profile", action="store_true", help="print the relay's functions by cumulative time")
    args = parser.parse_args()
    sys.path.append(str(REPO / "shared"))  # after PYTHONPATH's: another commit's kernel when given
    from kafka import KafkaAdminClient
    from pymongo import MongoClient

    from crm_platform.envelope import EventEnvelope
    from crm_platform.event_store import MongoEventStore
    from crm_platform.kafka_clients import ensure_topics, make_producer
    from crm_platform.leases import Lease
    from crm_platform.outbox_relay import OutboxRelay

    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:29092")
    run = uuid.uuid4().hex[:8]
    client = MongoClient(os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27117/"), tz_aware=True)
    database, topic = f"bench_relay_{run}", f"bench-relay-{run}"
    store = MongoEventStore(client[database])
    store.ensure_indexes()
    ensure_topics(servers, [topic], 3)
    try:
        for start in range(0, args.commits, 500):
            store.append_many([[EventEnvelope("ContactCreated", "Contact", str(uuid.uuid4()), 1, "bench",
                                              dict(PAYLOAD))] for _ in range(start, min(args.commits, start + 500))])
        devinfra_index()
        relay = OutboxRelay(store, topic, lambda: make_producer(servers, client_id="bench-relay"),
                            Lease(client[database]["leases"], "outbox-relay"))
        profile = cProfile.Profile()
        batches = []
        started = time.perf_counter()
        if args.profile:
            profile.enable()
        while True:
            begun = time.perf_counter()
            sent = relay.publish_pending()
            if not sent:
                break
            batches.append(round(time.perf_counter() - begun, 2))
            print(f"  batch of {sent} commits: {batches[-1]} s", flush=True)
        relay.mark_published()
        elapsed = time.perf_counter() - started
        profile.disable()
        relay.reset_producer()
        # what is not sent: a notice left, or a single commit unmarked (a bulk append's count as sent once their
        # notices are gone: MongoEventStore.batches)
        left = store.outbox.count_documents({}) + store.commits.count_documents({"published": False})
        report = {"benchmark": "relay_commits", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "commits": args.commits, "seconds": round(elapsed, 1), "commits_per_s": round(args.commits / elapsed),
                  "batches_s": batches, "left_unpublished": left}
        if args.profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats("outbox_relay|mongo.py", 15)
        save(report)
        return 0 if left == 0 else 1
    finally:
        client.drop_database(database)
        admin = KafkaAdminClient(bootstrap_servers=servers)
        admin.delete_topics([topic])
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
