"""The contacts projection consumer applying an import's events: events per second.

1. Against the servers of `devinfra env` (or MONGO_URI / KAFKA_BOOTSTRAP_SERVERS), in a
   throwaway contacts database, key vault and topic namespace (unique names, dropped and
   deleted at the end): stores N import-shaped contacts (default 5,000) with the service's
   own bulk path, as an import's job does (contacts.service_layer.bulk_create, 500 rows a
   batch: domain rules, sealed personal data, event store), and publishes their N
   ContactCreated events to the topic, keyed by contact as the relay does.
   `--extra-keys K` first fills the key vault with K more subjects' keys, as a deployment's
   vault holds every contact's. `--then-update` imports the same rows again with a new
   company (`on_match=update`, a re-import): N ContactUpdated events more, 2N in all.
2. Runs `python -m devinfra index` once (the GIN indexes `make run` keeps; nothing to do on
   another server), then the worker's projection consumer (`EventConsumer` with the
   container's `apply_to_projections` and `projection_batch`, exactly as
   contacts.entrypoints.worker builds it) until it has handled the N events, and checks that
   the read model holds them all. Events per second = N / (first batch -> last event handled),
   so the consumer group's join is not counted. `--one-by-one` runs it without the batch
   block: every event through every read model one at a time.
   The statements the run sent to the database are counted by command (a pymongo listener).

Runs whatever code is importable: to measure another commit, run this script with
PYTHONPATH=<that commit's>/shared:<that commit's>/services/contacts.
    eval "$(python -m devinfra env)"; python benchmarks/project_import.py [--events 5000] [--one-by-one]
"""
from __future__ import annotations

import argparse
import base64
import os
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from pymongo import monitoring

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "benchmarks"))  # appended: the code measured is whatever PYTHONPATH gives
from find_contacts import row  # noqa: E402
from reporting import devinfra_index, save  # noqa: E402

ROWS_PER_BATCH = 500  # as an import's job step


class Statements(monitoring.CommandListener):
    """Counts the commands sent to the benchmark's databases, by name."""

    def __init__(self, databases: set[str]) -> None:
        self.databases, self.counts, self.on = databases, Counter(), False

    def started(self, event) -> None:
        if self.on and event.database_name in self.databases:
            self.counts[event.command_name] += 1

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


def settings_for(run: str) -> dict:
    from contacts import config

    return config.load({
        "MONGO_URI": os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27117/"),
        "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:29092"),
        "KAFKA_TOPIC_NAMESPACE": f"bench-project-{run}.",
        "INTERNAL_TOKEN": "benchmark-internal-token",
        "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "KEYVAULT_DB": f"bench_project_{run}_keys",
        "CONTACTS_DB": f"bench_project_{run}_contacts",
        "LOG_LEVEL": "WARNING",
    })


def fill_vault(container, count: int) -> None:
    for start in range(0, count, 2000):
        with container.cipher.keys_ready([f"bench:{uuid.uuid4()}" for _ in range(min(2000, count - start))],
                                         create=True):
            pass


def store_import(container, account_id: str, contacts: int, run: int, update: bool = False) -> float:
    """Import `contacts` rows (each a new contact); or, with `update`, the same rows again with another company."""
    from contacts.service_layer.bulk_create import create_many

    started = time.perf_counter()
    for start in range(0, contacts, ROWS_PER_BATCH):
        rows = [row(run, i) for i in range(start, min(contacts, start + ROWS_PER_BATCH))]
        if update:
            rows = [{**r, "company": f"{r['company']} (nouvelle adresse)"} for r in rows]
        outcomes = create_many(container.unit_of_work(), account_id, rows, on_match="update" if update else "skip")
        expected = "updated" if update else "created"
        assert all(o.status == expected for o in outcomes), f"every generated row is {expected}"
    return time.perf_counter() - started


def publish(container, envelopes) -> None:
    from crm_platform.kafka_clients import dead_letter_topic, ensure_topics, make_producer

    bootstrap, topic = container.settings["KAFKA_BOOTSTRAP_SERVERS"], container.events_topic
    ensure_topics(bootstrap, [topic, dead_letter_topic(topic)], container.settings["KAFKA_TOPIC_PARTITIONS"])
    producer = make_producer(bootstrap, "bench-publisher")
    for envelope in envelopes:
        producer.send(topic, key=envelope.aggregate_id.encode(), value=envelope.to_json_bytes())
    producer.flush()
    producer.close()


def project(container, events: int, one_by_one: bool, statements: Statements) -> dict:
    from crm_platform.event_consumer import EventConsumer

    started: list[float] = []  # when the first batch (or, one by one, the first event) began

    def handle(envelope):
        if not started:
            started.append(time.perf_counter())
        container.apply_to_projections(envelope)

    def batch(envelopes):
        if not started:
            started.append(time.perf_counter())
        return container.projection_batch(envelopes)

    consumer = EventConsumer("contacts.projection", container.projection_consumer, container.producer, handle,
                             batch_context=None if one_by_one else batch)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    statements.on = True
    thread.start()
    while consumer.processed + consumer.dead_lettered < events:
        time.sleep(0.05)
    finished = time.perf_counter()
    statements.on = False
    stop.set()
    thread.join(timeout=30)
    elapsed = finished - started[0]
    return {"seconds": round(elapsed, 2), "events_per_s": round(events / elapsed, 1),
            "dead_lettered": consumer.dead_lettered}


def clean_up(client, container) -> None:
    from kafka import KafkaAdminClient

    from crm_platform.kafka_clients import dead_letter_topic

    client.drop_database(container.settings["CONTACTS_DB"])
    client.drop_database(container.settings["KEYVAULT_DB"])
    admin = KafkaAdminClient(bootstrap_servers=container.settings["KAFKA_BOOTSTRAP_SERVERS"].split(","))
    try:
        existing = set(admin.list_topics())
        admin.delete_topics([t for t in (container.events_topic, dead_letter_topic(container.events_topic))
                             if t in existing])
    finally:
        admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--extra-keys", type=int, default=0, help="more subjects' keys in the vault first")
    parser.add_argument("--one-by-one", action="store_true", help="no batch block: every event on its own")
    parser.add_argument("--then-update", action="store_true", help="a re-import updating every contact: 2N events")
    args = parser.parse_args()
    from contacts.bootstrap import Container

    run = uuid.uuid4().hex[:8]
    settings = settings_for(run)
    statements = Statements({settings["CONTACTS_DB"], settings["KEYVAULT_DB"]})
    monitoring.register(statements)  # before any client is made: it listens to the clients made after
    container = Container(settings)
    container.ensure_indexes()
    events = args.events * (2 if args.then_update else 1)
    report: dict = {"benchmark": "project_import", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "events": events, "extra_keys": args.extra_keys, "then_update": args.then_update,
                    "path": "one by one" if args.one_by_one else "batch block"}
    try:
        if args.extra_keys:
            fill_vault(container, args.extra_keys)
        print(f"storing {args.events} import-shaped contacts...", flush=True)
        account_id, rows_run = f"acct-bench-{run}", int(run, 16) % 10_000
        report["stored_s"] = round(store_import(container, account_id, args.events, rows_run), 1)
        if args.then_update:
            report["updated_s"] = round(store_import(container, account_id, args.events, rows_run, update=True), 1)
        envelopes = list(container.event_store.read_all())
        assert len(envelopes) == events
        publish(container, envelopes)
        report["devinfra_index"] = devinfra_index()
        print(f"projecting {events} events ({report['path']})...", flush=True)
        report["projection"] = project(container, events, args.one_by_one, statements)
        report["statements"] = dict(statements.counts.most_common())
        projected = container.projection.collection.count_documents({"deleted": False})
        assert projected == args.events, f"the read model holds {projected} of {args.events}"
        if args.then_update:
            updated = container.projection.collection.count_documents({"version": 2})
            assert updated == args.events, f"the read model holds {updated} updates of {args.events}"
    finally:
        clean_up(container.mongo.client, container)
    save(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
