"""The saga survives its workers killed mid-way (issue 13): real privacy, billing and workflows workers as
processes on the real broker and database, SIGKILLed at points the test waits for, then started again.

1. the workflows worker is killed once it is listening, before any request exists: it cannot have answered;
2. an erasure and an export are received (privacy's bus, asking billing and workflows); the privacy worker
   publishes them, billing answers both, and once privacy has recorded billing's replies the privacy worker is
   killed too (while replies arrive: workflows has not answered);
3. a third request (an erasure) is received while the privacy worker is down: its outbox must keep it;
4. workflows is started again and answers while privacy is down; privacy's group of billing's replies is set back to the
   start of its topics before privacy starts again, as a kill between recording a reply and committing its
   offset leaves it: every billing reply comes a second time;
5. every request must end `completed`, each asked service's reply recorded exactly once, the export's ZIP in
   the exchange store, and the read model (fed by the restarted worker's relay) saying so.

Lost work shows as a request never completed (a consumer that skips what arrived while it was down, an outbox
that forgets), a redelivered reply as a second ReplyRecorded.
"""
from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import NoError
from kafka.structs import OffsetAndMetadata

from crm_platform.testing.service_fixtures import INTERNAL_TOKEN, service_container

from privacy.bootstrap import Container
from privacy.domain.commands import ReceivePrivacyRequest
from privacy.service_layer.ports import Policy

from .conftest import know_contact

REPO = Path(__file__).resolve().parents[4]
ACCOUNT = "acct-chaos"
ASKED = ("billing", "workflows")  # the participants on main (contacts joins once its participant is merged)
DEADLINE_S = 60  # a bound: it takes 15-30 s on 2 cores, waiting out the killed members (Kafka session, relay lease)
WORKER_DBS = {"billing": "BILLING_DB", "workflows": "WORKFLOWS_DB"}


class Workers:
    """Worker processes, each in its own process group (SIGKILL takes its threads and children with it)."""

    def __init__(self, env: dict, log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.starts: dict[str, int] = {}

    def start(self, service: str) -> None:
        self.starts[service] = self.starts.get(service, 0) + 1
        log = open(self.log_dir / f"{service}-{self.starts[service]}.log", "wb")
        env = {**self.env, "WORKER_HEARTBEAT_FILE": str(self.log_dir / f"{service}.heartbeat")}
        self.procs[service] = subprocess.Popen([sys.executable, "-m", f"{service}.entrypoints.worker"], env=env,
                                               stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                               start_new_session=True)
        log.close()

    def kill(self, service: str) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed or committed."""
        proc = self.procs[service]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def check_alive(self) -> None:
        for service, proc in self.procs.items():
            if proc.poll() is not None and proc.returncode != -signal.SIGKILL:
                raise AssertionError(f"{service} worker exited ({proc.returncode}):\n{self.logs()}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def logs(self, tail: int = 2500) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}"
                         for path in sorted(self.log_dir.glob("*.log")))


def eventually(check, what: str, until: float, workers: Workers):
    while time.monotonic() < until:
        result = check()
        if result:
            return result
        workers.check_alive()
        time.sleep(0.1)
    raise AssertionError(f"not in time: {what}\n{workers.logs()}")


@pytest.fixture
def live_container(settings, mongo_client):
    """Privacy's container on the real clock (the workers' time), asking only the participants on main."""
    def build(settings):
        container = Container(settings)
        container.policy = Policy(services=ASKED, reply_timeout=container.policy.reply_timeout,
                                  export_ttl=container.policy.export_ttl)
        return container
    yield from service_container(build, settings, mongo_client, "PRIVACY_DB")


@pytest.fixture
def workers(settings, unique_suffix, mongo_client, tmp_path):
    b64 = lambda key: base64.b64encode(key).decode()  # noqa: E731
    env = {**os.environ, "MONGO_URI": settings["MONGO_URI"],
           "KAFKA_BOOTSTRAP_SERVERS": settings["KAFKA_BOOTSTRAP_SERVERS"],
           "KAFKA_TOPIC_NAMESPACE": settings["KAFKA_TOPIC_NAMESPACE"], "KAFKA_TOPIC_PARTITIONS": "1",
           "INTERNAL_TOKEN": INTERNAL_TOKEN, "MASTER_KEY": b64(settings["MASTER_KEY"]),
           "KEYVAULT_DB": settings["KEYVAULT_DB"], "PRIVACY_EXCHANGE_DB": settings["PRIVACY_EXCHANGE_DB"],
           "PRIVACY_DB": settings["PRIVACY_DB"], "PRIVACY_SIGNING_KEY": b64(settings["PRIVACY_SIGNING_KEY"]),
           **{setting: f"test_{unique_suffix}_{service}" for service, setting in WORKER_DBS.items()},
           "LOG_LEVEL": "INFO"}
    workers = Workers(env, tmp_path)
    try:
        yield workers
    finally:
        workers.stop()
        for setting in WORKER_DBS.values():
            mongo_client.drop_database(env[setting])


def test_the_saga_completes_every_request_once_after_its_workers_are_killed_mid_way(
        live_container, workers, settings, mongo_client):
    until = time.monotonic() + DEADLINE_S
    namespace, bootstrap = settings["KAFKA_TOPIC_NAMESPACE"], settings["KAFKA_BOOTSTRAP_SERVERS"]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="test-worker-killed")
    try:
        for service in ("privacy", "billing", "workflows"):
            workers.start(service)
        # 1. workflows listening for requests, then killed before any exists
        eventually(lambda: group_members(admin, f"{namespace}workflows.privacy"), "workflows listening",
                   until, workers)
        workers.kill("workflows")

        # 2. an erasure and an export; privacy publishes them, billing answers, privacy records billing's replies
        erasure = receive(live_container, "erasure", "contact:1")
        export = receive(live_container, "access", "contact:2")
        eventually(lambda: all(services_recorded(live_container, r) == ["billing"] for r in (erasure, export)),
                   "billing's replies recorded by privacy", until, workers)
        workers.kill("privacy")
        workflows_store = mongo_client[workers.env["WORKFLOWS_DB"]]["event_commits"]
        assert workflows_store.count_documents({"aggregate_id": {"$in": [erasure, export]}}) == 0

        # 3. a request while privacy's worker is down; 4. workflows back, privacy's replies to come again
        late = receive(live_container, "erasure", "contact:3")
        workers.start("workflows")
        replies_group = f"{namespace}privacy.replies.billing"
        eventually(lambda: group_state(admin, replies_group) == "Empty", "privacy's dead member gone", until,
                   workers)
        # whether or not the killed worker committed its offset after recording them: billing's replies again
        billing_replies = TopicPartition(f"{namespace}billing.events", 0)
        rewound = admin.alter_group_offsets(replies_group, {billing_replies: OffsetAndMetadata(0, "", -1)})
        assert rewound == {billing_replies: NoError}, rewound
        workers.start("privacy")

        # 5. every request completed, each reply once, even billing's delivered twice
        requests = (erasure, export, late)
        eventually(lambda: all(status_of(live_container, r) == "completed" for r in requests),
                   "every request completed", until, workers)
        end = admin.list_partition_offsets({billing_replies: OffsetSpec.LATEST})[billing_replies].offset
        eventually(lambda: committed_offset(admin, replies_group, billing_replies) >= end,
                   "billing's replies taken again by the restarted privacy worker", until, workers)
        for request_id in requests:
            assert services_recorded(live_container, request_id) == sorted(ASKED), request_id
        with live_container.unit_of_work() as uow:
            exported = uow.requests.get(ACCOUNT, export)
        assert exported.export is not None and exported.missing_services == []
        _, chunks = live_container.exchange.open_file(export, exported.export.blob_id)
        with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        assert sorted(manifest["services"]) == sorted(ASKED) and manifest["request"]["missing_services"] == []
        assert workflows_store.count_documents({"aggregate_id": {"$in": list(requests)}}) == 3  # answered once each
        eventually(lambda: all((live_container.db["privacy_requests"].find_one({"_id": r}) or {}).get("status")
                               == "completed" for r in requests), "the read model completed", until, workers)
    finally:
        admin.close()


def receive(container: Container, type: str, contact_id: str) -> str:
    know_contact(container, ACCOUNT, contact_id)  # as contacts.events would have made it known to privacy
    request = container.bus.handle(ReceivePrivacyRequest(ACCOUNT, type, contact_id, "Louise Martin", "e-mail"))
    return request.id


def services_recorded(container: Container, request_id: str) -> list[str]:
    """The service of every ReplyRecorded stored for the request, duplicates included."""
    return sorted(e.payload["service"] for e in container.event_store.load(request_id)
                  if e.event_type == "ReplyRecorded")


def status_of(container: Container, request_id: str) -> str:
    with container.unit_of_work() as uow:
        return uow.requests.get(ACCOUNT, request_id).status


def group_members(admin: KafkaAdminClient, group: str) -> list:
    return admin.describe_groups([group])[group].get("members") or []


def group_state(admin: KafkaAdminClient, group: str) -> str:
    return admin.describe_groups([group])[group].get("group_state", "")


def committed_offset(admin: KafkaAdminClient, group: str, partition: TopicPartition) -> int:
    committed = admin.list_group_offsets({group: [partition]})[group].get(partition)
    return -1 if committed is None else committed.offset
