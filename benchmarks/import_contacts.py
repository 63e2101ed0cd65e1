"""Importing N generated rows through the gateway until all are queryable, against a plain bulk insert.

1. Generates a CSV of N rows (default 10,000; `--rows 100000` for the issue's figure), each a new
   person with an email, a mobile and an address, in the French Excel shape (`;`, Windows-1252).
2. Import: upload it to a fresh account through the gateway, start the import, poll the job, then
   poll the outbox and the projection consumer's lag until both are empty, and the contacts read model
   until it holds all N. Rows per second = N / (upload -> all queryable).
3. Plain: in the same run, against the same MongoDB server and Kafka broker, a script that only
   bulk-inserts N documents of the same shape (insert_many, 1,000 at a time) into a scratch
   collection and produces N Kafka messages (acks=all) to a scratch topic. Rows per second likewise.
4. CPU: the seconds each part of the system (each service's API and worker, FerretDB, PostgreSQL,
   Kafka) used from the upload until all were queryable (from /proc: Linux).
5. Export: peak memory of a standard-CSV export of those N contacts, run in this process against
   the same read model (tracemalloc peak of Python allocations while streaming to /dev/null).
Reports both rates, their ratio (the issue aims at >= 0.5), the export figures, the database
server, and saves JSON under benchmarks/results/.

Needs `make run` (reads var/dev.env). A new account is created for each run.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import tracemalloc
import uuid
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from find_contacts import container_of, new_account  # noqa: E402
from reporting import cpu_seconds_by_process, cpu_used, database_server, load_env, save  # noqa: E402

HEADER = "Prénom;Nom;Société;E-mail;Portable;Adresse;Code postal;Ville;Pays"
FIRST = ["Louise", "Jean", "Marie", "Pierre", "Camille", "Léa", "Hugo", "Chloé", "Lucas", "Inès"]
LAST = ["Desnotés", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Pétit", "Durand", "Leroy"]


def generate(rows: int, run: str) -> bytes:
    rng = random.Random(run)
    lines = [HEADER]
    for i in range(rows):
        lines.append(f"{rng.choice(FIRST)};{rng.choice(LAST)}{i};Société {i % 3000};p{i}.{run}@bench-import.fr;"
                     f"06 {i // 1000000 % 100:02d} {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d};"
                     f"{i} rue de la Paix;59000;Lille;France")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def import_through_gateway(gateway: str, key: str, data: bytes, account_id: str, env: dict, rows: int) -> dict:
    headers = {"Authorization": f"Bearer {key}"}
    cpu_before = cpu_seconds_by_process()
    started = time.perf_counter()
    uploaded = requests.post(f"{gateway}/v1/imports", files={"file": ("bench.csv", data, "text/csv")},
                             headers=headers, timeout=600)
    uploaded.raise_for_status()
    import_id = uploaded.json()["id"]
    requests.post(f"{gateway}/v1/imports/{import_id}/start", json={}, headers=headers, timeout=600).raise_for_status()
    while True:
        job = requests.get(f"{gateway}/v1/imports/{import_id}", headers=headers, timeout=60).json()["job"]
        print(f"  job {job['status']}: {job['counts']}", flush=True)
        if job["status"] in ("done", "cancelled"):
            break
        time.sleep(1)
    job_done = time.perf_counter() - started
    container = container_of(env)
    contacts = container.projection.collection
    while True:
        # Counting the account's contacts decodes every one of them on FerretDB (seconds at 10,000, which would
        # slow down what is measured): count only once nothing waits to be sent or projected.
        waiting = pipeline_backlog(container)
        if waiting == {"to send": "none", "to project": 0}:
            if (projected := contacts.count_documents({"account_id": account_id, "deleted": False})) >= rows:
                break
            waiting["read model"] = f"{projected}/{rows}"
        print(f"  waiting: {waiting}", flush=True)
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    return {"counts": job["counts"], "job_done_s": round(job_done, 1), "all_queryable_s": round(elapsed, 1),
            "rows_per_s": round(rows / elapsed, 1), "cpu_s": cpu_used(cpu_before, cpu_seconds_by_process())}


def pipeline_backlog(container) -> dict:
    """Whether commits wait to be sent to Kafka (the outbox's notices), and how many events the projection consumer
    has not yet committed (its group's lag on the events topic): cheap to ask, unlike counting the read model."""
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    group = f"{container.settings['KAFKA_TOPIC_NAMESPACE']}{container.service_name}.projection"
    consumer = KafkaConsumer(bootstrap_servers=container.settings["KAFKA_BOOTSTRAP_SERVERS"], group_id=group,
                             enable_auto_commit=False)  # never subscribes: only asks the group's committed offsets
    try:
        topic = container.events_topic
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        ends = consumer.end_offsets(partitions)
        committed = {tp: consumer.committed(tp) for tp in partitions}
        never = [tp for tp, offset in committed.items() if offset is None]  # the group starts at the beginning
        committed.update(consumer.beginning_offsets(never) if never else {})
        to_project = sum(end - committed[tp] for tp, end in ends.items())
    finally:
        consumer.close()
    # whether any notice waits, not how many: FerretDB counts a collection by reading every document (the outbox's
    # notices hold their events: 1-3 s at 10,000), and pushes a limit down only for a query without filter
    nothing_to_send = container.event_store.outbox.find_one({}, {"_id": 1}) is None
    return {"to send": "none" if nothing_to_send else "some", "to project": to_project}


def plain_bulk_insert(env: dict, rows: int, run: str) -> dict:
    from kafka import KafkaAdminClient, KafkaProducer
    from pymongo import MongoClient

    from crm_platform.kafka_clients import ensure_topics

    client = MongoClient(env["MONGO_URI"])
    scratch = client[f"bench_plain_{run}"]["contacts"]
    producer = KafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
    topic = f"bench-plain-{run}"
    ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"], [topic], int(env.get("KAFKA_TOPIC_PARTITIONS", "3")))
    started = time.perf_counter()
    for start in range(0, rows, 1000):
        docs = [{"_id": str(uuid.uuid4()), "account_id": run, "first_name": "Louise", "last_name": f"Desnotés{i}",
                 "company": f"Société {i % 3000}", "emails": [{"address": f"p{i}.{run}@bench-import.fr"}],
                 "phones": [{"number": "06 12 34 56 78", "e164": "+33612345678"}],
                 "addresses": [{"street": [f"{i} rue de la Paix"], "postal_code": "59000", "city": "Lille",
                                "country": "FR"}]} for i in range(start, min(rows, start + 1000))]
        scratch.insert_many(docs, ordered=False)
        for doc in docs:
            producer.send(topic, key=doc["_id"].encode(), value=json.dumps(doc).encode())
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    client.drop_database(f"bench_plain_{run}")
    admin = KafkaAdminClient(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
    admin.delete_topics([topic])
    admin.close()
    return {"seconds": round(elapsed, 1), "rows_per_s": round(rows / elapsed, 1)}


def export_peak_memory(env: dict, account_id: str) -> dict:
    from contacts import views
    from contacts.contact_query import ContactQuery
    from contacts.exporting import ExportSource, display_names, export_chunks

    container = container_of(env)
    names = display_names(container.labels_projection.collection, container.label_order_projection.collection,
                          container.option_lists_projection.collection, account_id)
    custom_fields = views.list_custom_fields(container.custom_fields_projection.collection, account_id)
    source = ExportSource(container.projection.collection, names, custom_fields, account_id, ContactQuery())
    tracemalloc.start()
    started, size = time.perf_counter(), 0
    with open(os.devnull, "wb") as sink:
        for chunk in export_chunks(source, "standard", excel_fr=True):
            size += len(chunk)
            sink.write(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"bytes": size, "seconds": round(time.perf_counter() - started, 1),
            "python_peak_mib": round(peak / 2**20, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--export-only", metavar="ACCOUNT_ID",
                        help="only measure the export of this account's contacts (e.g. the find benchmark's)")
    args = parser.parse_args()
    env = load_env()
    if args.export_only:
        print(json.dumps({"export": export_peak_memory(env, args.export_only), "account_id": args.export_only,
                          "database_server": database_server()}, indent=2))
        return 0
    run = uuid.uuid4().hex[:8]
    account = new_account(env, f"Import benchmark {run}")
    data = generate(args.rows, run)
    report: dict = {"benchmark": "import_contacts", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "rows": args.rows, "file_bytes": len(data)}
    time.sleep(5)  # the new account's default labels are being created by the worker
    print(f"importing {args.rows} rows ({len(data)} bytes) through {args.gateway}...", flush=True)
    report["import"] = import_through_gateway(args.gateway, account["api_key"], data, account["account_id"], env, args.rows)
    print("plain bulk insert + Kafka messages...", flush=True)
    report["plain"] = plain_bulk_insert(env, args.rows, run)
    report["import_to_plain_ratio"] = round(report["import"]["rows_per_s"] / report["plain"]["rows_per_s"], 3)
    print("exporting them (standard CSV, French Excel)...", flush=True)
    report["export"] = export_peak_memory(env, account["account_id"])
    save(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
