"""Chaos (issue 15 item 5), bounded to fit `make test`: the broker killed and restarted during a stream of API
writes, the contacts worker killed again and again, the MongoDB server stopped for 10 seconds. Each time,
every acknowledged write reaches the projection once and nothing else does, the projection equals one rebuilt
from the event store, and an outage is a 503 with Retry-After, never a 500.

These tests run the gateway and the contacts service on a broker and a MongoDB server of their own (FerretDB, on
free ports), so that killing them disturbs no other test. CHAOS_ROUNDS (default 5) sets how often
the worker is killed and CHAOS_IMPORT_ROWS (default 1,000) how long the import is; the issue's long form is
CHAOS_ROUNDS=20 CHAOS_IMPORT_ROWS=10000. Each scenario prints its counts (sent, stored,
projected, lost, duplicated): run with `-s` to read them.
"""
from __future__ import annotations

import base64
import os
import random
import shutil
import signal
import threading
import time

import pytest
import requests

from crm_platform import registry

from .conftest import E2E_RATE_LIMITS, System, bearer, eventually

devinfra_kafka = pytest.importorskip("devinfra.kafka", reason="needs the devinfra package (make test installs it)")
from devinfra import cli as devinfra_cli  # noqa: E402
from devinfra.config import Config  # noqa: E402
from devinfra.mongo import MongoServer  # noqa: E402
from devinfra.ports import free_ports  # noqa: E402

ROUNDS = int(os.environ.get("CHAOS_ROUNDS", "5"))
IMPORT_ROWS = int(os.environ.get("CHAOS_IMPORT_ROWS", "1000"))
PROCESSES = ("gateway-api", "gateway-worker", "contacts-api", "contacts-worker")


class Servers:
    """A broker and a MongoDB server of this module alone, which it may kill."""

    def __init__(self, tmp) -> None:
        """A MongoDB server of the kind make test runs (FerretDB on PostgreSQL where it is installed, storing in
        that PostgreSQL; else FerretDB on SQLite in `tmp`)."""
        kafka_port, controller, mongo_port = free_ports(3)
        config = Config.from_env()
        kind = devinfra_cli.mongo_server(config).kind
        kind = "sqlite" if config.mongo_external else kind
        # its own URL too: devinfra tells its servers apart by it, and would take make test's for this one
        postgresql_url = f"{devinfra_cli.postgres_server(config).url}?application_name=chaos-{kafka_port}" \
            if kind == "postgresql" else None
        self.broker = devinfra_kafka.KafkaBroker(kafka_port, controller, tmp / "kafka", tmp / "kafka.log")
        self.mongo = MongoServer(mongo_port, tmp / "ferretdb", tmp / "ferretdb.log", pid_path=tmp / "ferretdb.pid",
                                 kind=kind, postgresql_url=postgresql_url)

    def start(self) -> None:
        try:
            self.broker.start(timeout=120)
            self.mongo.start(timeout=60)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.broker.stop()
        self.mongo.stop()

    @staticmethod
    def kill(server) -> None:
        """SIGKILL: no clean shutdown, what a crash or an OOM kill does."""
        os.kill(own_pid(server), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while server.is_running() and time.monotonic() < deadline:
            time.sleep(0.1)
        server.stop()  # forget the dead process


def own_pid(server) -> int:
    """The pid of the server this module started: devinfra finds a server by its command line, and one that
    looked like make test's own would stop that one (every other test's database or broker)."""
    pid = server.pid()
    started = server._proc.pid if server._proc is not None else None
    assert pid is not None and pid == started, f"{server.description}: not the process this module started"
    return pid


@pytest.fixture(scope="module")
def chaos(tmp_path_factory):
    if shutil.which("java") is None:
        pytest.fail("java is needed to run a broker of this module's own", pytrace=False)
    servers = Servers(tmp_path_factory.mktemp("chaos-servers"))
    servers.start()
    try:
        yield from _system_on(servers, tmp_path_factory)
    finally:
        servers.stop()  # whatever happened above: never leave this module's broker or FerretDB running


def _system_on(servers, tmp_path_factory):
    suffix = os.urandom(4).hex()
    services = registry.load()
    ports = dict(zip((p.name for p in services.processes), free_ports(len(services.processes))))
    env = {
        **os.environ,
        "MONGO_URI": servers.mongo.uri,
        "KAFKA_BOOTSTRAP_SERVERS": servers.broker.bootstrap_servers,
        "KAFKA_TOPIC_NAMESPACE": f"chaos-{suffix}.",
        "INTERNAL_TOKEN": base64.urlsafe_b64encode(os.urandom(24)).decode(),
        "METRICS_TOKEN": base64.urlsafe_b64encode(os.urandom(24)).decode(),
        "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "PRIVACY_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "KEYVAULT_DB": f"chaos_{suffix}_keys",
        "PRIVACY_EXCHANGE_DB": f"chaos_{suffix}_exchange",
        **{s.db_setting: f"chaos_{suffix}_{s.name.replace('-', '_')}" for s in services.services},
        **{s.url_variable: f"http://127.0.0.1:{ports[s.process('api').name]}" for s in services.upstreams},
        "LOG_LEVEL": "INFO",
        **E2E_RATE_LIMITS,
    }
    system = System(env, tmp_path_factory.mktemp("chaos-logs"))
    system.servers = servers
    try:
        for process in services.processes:
            if process.name in PROCESSES:
                system.run(process, ports[process.name])
        for name in ("contacts", "gateway"):
            system.wait_ready(f"http://127.0.0.1:{ports[services.service(name).process('api').name]}/readyz")
        system.gateway_url = f"http://127.0.0.1:{ports[services.public.process('api').name]}"
        system.account = system.create_account("Agence Chaos")
        yield system
    finally:
        system.stop()
        _drop_databases(env, ("KEYVAULT_DB", "PRIVACY_EXCHANGE_DB", *(s.db_setting for s in services.services)))


def _drop_databases(env: dict, settings) -> None:
    """FerretDB on PostgreSQL keeps them in make test's PostgreSQL; a server left stopped by a failed test keeps
    them until the next clean (nothing to drop them through)."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    try:
        with MongoClient(env["MONGO_URI"], serverSelectionTimeoutMS=5_000) as client:
            for setting in settings:
                client.drop_database(env[setting])
    except PyMongoError:
        pass


class Writer(threading.Thread):
    """Creates contacts through the gateway, one after another, until stopped; keeps the id of each one
    acknowledged (201) and the status of every other answer."""

    def __init__(self, system, tag: str, pause_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.system, self.tag, self.pause_s = system, tag, pause_s
        self.created: list[str] = []
        self.refused: list[int | None] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        session, n = requests.Session(), 0
        while not self.stopping.is_set():
            n += 1
            try:
                answer = session.post(f"{self.system.gateway_url}/v1/contacts", headers=bearer(self.system.account),
                                      timeout=30, json={"first_name": f"Chaos {self.tag} {n}", "last_name": "Test"})
            except requests.RequestException:
                self.refused.append(None)
                continue
            if answer.status_code == 201:
                self.created.append(answer.json()["id"])
            else:
                self.refused.append(answer.status_code)
            time.sleep(self.pause_s)

    def stop(self) -> "Writer":
        self.stopping.set()
        self.join(timeout=60)
        return self


def database(system):
    from pymongo import MongoClient
    client = MongoClient(system.env["MONGO_URI"], tz_aware=True, serverSelectionTimeoutMS=10_000)
    return client, client[system.env["CONTACTS_DB"]]


def counts(system, ids: list[str], timeout_s: float = 120) -> dict:
    """sent / stored / projected / lost / duplicated for these acknowledged ids, once the projection caught up
    (or the time ran out): stored = contacts with a commit in the event store, projected = read-model documents."""
    client, db = database(system)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            projected = list(db["contacts"].find({"_id": {"$in": ids}}, {"_id": 1}))
            if len(projected) >= len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        stored = db["event_commits"].distinct("aggregate_id", {"aggregate_id": {"$in": ids}})
        projected_ids = [doc["_id"] for doc in projected]
        return {"sent": len(ids), "stored": len(stored), "projected": len(set(projected_ids)),
                "lost": len(set(ids) - set(projected_ids)), "duplicated": len(projected_ids) - len(set(projected_ids))
                + len(ids) - len(set(ids))}
    finally:
        client.close()


def rebuilt_equals_live(system) -> tuple[int, list[str]]:
    """Rebuild the contacts projection from the event store into an empty database and compare every document
    of the account with the live one; (documents compared, ids of those that differ)."""
    from contacts import config
    from contacts.bootstrap import Container
    from contacts.entrypoints.cli import rebuild_projection

    live = Container(config.load(system.env))
    scratch_db = f"{system.env['CONTACTS_DB']}_rebuilt"

    class Rebuilt(Container):
        event_store = property(lambda self: live.event_store)  # the live events, into the scratch read models

    rebuilt = Rebuilt(config.load({**system.env, "CONTACTS_DB": scratch_db}))
    try:
        rebuild_projection(rebuilt)
        account = {"account_id": system.account["account_id"]}
        # the creation bucket is the read model's own numbering, in the order it first inserted contacts (a replay
        # numbers them in commit order, a worker killed mid-batch wastes numbers): present, not equal
        live_docs = {doc["_id"]: doc for doc in live.db["contacts"].find(account)}
        rebuilt_docs = {doc["_id"]: doc for doc in rebuilt.db["contacts"].find(account)}
        for docs in (live_docs, rebuilt_docs):
            assert all(isinstance(doc.pop("list_bucket", None), int) or doc["deleted"] for doc in docs.values())
        differing = sorted(set(live_docs) ^ set(rebuilt_docs)) + sorted(
            key for key in set(live_docs) & set(rebuilt_docs) if live_docs[key] != rebuilt_docs[key])
        return len(live_docs), differing
    finally:
        rebuilt.mongo.database(scratch_db).client.drop_database(scratch_db)


def report(name: str, figures: dict) -> None:
    print(f"\nchaos: {name}: " + ", ".join(f"{key} {value}" for key, value in figures.items()))


def test_the_broker_killed_and_restarted_during_writes_loses_and_duplicates_nothing(chaos):
    writer = Writer(chaos, "broker")
    writer.start()
    time.sleep(2)
    Servers.kill(chaos.servers.broker)
    time.sleep(5)  # writes go on meanwhile: they are stored; the outbox relay waits for the broker
    chaos.servers.broker.start(timeout=120)
    time.sleep(3)
    writer.stop()
    figures = counts(chaos, writer.created)
    report("broker SIGKILLed for 5 s during writes", {**figures, "refused": len(writer.refused)})
    assert writer.refused == [], "a write is stored in MongoDB: the broker being down refuses none"
    assert figures["sent"] > 50 and figures["stored"] == figures["projected"] == figures["sent"]
    assert figures["lost"] == figures["duplicated"] == 0


def test_the_worker_killed_again_and_again_leaves_a_projection_equal_to_a_rebuild(chaos):
    writer = Writer(chaos, "worker")
    writer.start()
    for _ in range(ROUNDS):
        time.sleep(random.uniform(0.5, 2.0))
        chaos.kill_and_restart("contacts-worker")
    time.sleep(1)
    writer.stop()
    figures = counts(chaos, writer.created)
    compared, differing = rebuilt_equals_live(chaos)
    report(f"contacts worker SIGKILLed {ROUNDS} times during writes",
           {**figures, "documents compared with a rebuild": compared, "differing": len(differing)})
    assert writer.refused == [] and figures["sent"] > 20
    assert figures["lost"] == figures["duplicated"] == 0 and figures["projected"] == figures["sent"]
    assert compared >= figures["sent"] and differing == []


def test_the_database_stopped_for_10_s_is_a_503_with_retry_after_and_nothing_acknowledged_is_lost(chaos):
    writer = Writer(chaos, "database", pause_s=0.1)
    writer.start()
    time.sleep(2)
    own_pid(chaos.servers.mongo)
    chaos.servers.mongo.stop()  # FerretDB gone: every service's statements fail to find a server
    outage_ends = time.monotonic() + 10
    answers = []
    while time.monotonic() < outage_ends:
        try:
            answers.append(requests.get(f"{chaos.gateway_url}/v1/contacts", headers=bearer(chaos.account),
                                        timeout=30))
        except requests.RequestException:
            answers.append(None)
        time.sleep(0.5)
    chaos.servers.mongo.start(timeout=60)
    time.sleep(3)
    writer.stop()
    during = [a for a in answers if a is not None and a.status_code != 200]
    figures = counts(chaos, writer.created)
    report("MongoDB server stopped for 10 s during writes",
           {**figures, "writes refused": len(writer.refused), "reads during the outage": len(answers),
            "of them 503": sum(1 for a in during if a.status_code == 503)})
    assert None not in answers, "the gateway answered every read during the outage"
    assert during, "some read met the outage"
    assert all(a.status_code == 503 and a.headers.get("Retry-After") and
               a.headers["Content-Type"].startswith("application/problem+json") for a in during), \
        [(a.status_code, a.headers.get("Retry-After")) for a in during]
    assert set(writer.refused) <= {503}, writer.refused
    assert figures["lost"] == figures["duplicated"] == 0 and figures["projected"] == figures["sent"]


def test_the_broker_killed_and_restarted_during_an_import_loses_and_duplicates_nothing(chaos):
    rows = ["Prénom;Nom;E-mail"] + [f"Importé{i};Chaos;importe{i}@chaos.example" for i in range(IMPORT_ROWS)]
    url, headers = f"{chaos.gateway_url}/v1/imports", bearer(chaos.account)
    uploaded = requests.post(url, files={"file": ("chaos.csv", "\r\n".join(rows).encode(), "text/csv")},
                             headers=headers, timeout=60)
    assert uploaded.status_code == 201, uploaded.text
    import_id = uploaded.json()["id"]
    started = requests.post(f"{url}/{import_id}/start", json={"labels": ["Chaos import"]}, headers=headers, timeout=60)
    assert started.status_code == 202, started.text
    time.sleep(1)
    Servers.kill(chaos.servers.broker)
    time.sleep(5)
    chaos.servers.broker.start(timeout=120)
    job = eventually(lambda: requests.get(f"{url}/{import_id}", headers=headers, timeout=30).json()["job"],
                     lambda job: job["status"] == "done", timeout_s=300, interval_s=1)
    listed: list[str] = []

    def every_labelled_contact() -> list[str]:
        listed.clear()
        page_url = f"{chaos.gateway_url}/v1/contacts?labels_any=chaos-import&limit=200"
        while page_url:
            page = requests.get(page_url, headers=headers, timeout=30).json()
            listed.extend(item["id"] for item in page["items"])
            cursor = page.get("next_cursor")
            page_url = cursor and f"{chaos.gateway_url}/v1/contacts?labels_any=chaos-import&limit=200&cursor={cursor}"
        return listed

    eventually(every_labelled_contact, lambda ids: len(ids) >= IMPORT_ROWS, timeout_s=120, interval_s=1)
    figures = {"sent": IMPORT_ROWS, "stored": job["counts"]["created"], "projected": len(set(listed)),
               "lost": IMPORT_ROWS - len(set(listed)), "duplicated": len(listed) - len(set(listed))}
    report(f"broker SIGKILLed for 5 s during an import of {IMPORT_ROWS} rows", figures)
    assert job["counts"] == {"rows": IMPORT_ROWS, "created": IMPORT_ROWS, "updated": 0, "skipped": 0, "failed": 0}
    assert figures["lost"] == figures["duplicated"] == 0 and figures["projected"] == IMPORT_ROWS
