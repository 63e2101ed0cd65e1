"""gunicorn's multiprocess mode done right: /metrics sums every worker's counts, those of workers that
have exited included, and a previous run's files in the directory are wiped at start."""
from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from devinfra.ports import free_ports
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[3]
METRICS_TOKEN = "metrics-token-" + uuid.uuid4().hex
INTERNAL_TOKEN = "internal-token-" + uuid.uuid4().hex
ROUTE = "/v1/contacts/<contact_id>"


def served_count(base: str) -> float:
    text = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10).text
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "crm_http_requests_total" and s.labels["route"] == ROUTE)


def workers_of(master: int) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def wait_until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def stale_run_file(directory: Path) -> None:
    """What a previous run left: a worker's counter file holding 1000 requests on the same route."""
    code = ("from crm_platform.metrics import HTTP_REQUESTS; "
            f"HTTP_REQUESTS.labels('contacts', '{ROUTE}', 'GET', '404').inc(1000)")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)})
    assert list(directory.glob("counter_*.db"))


@pytest.fixture
def contacts_api(infra, mongo_client, tmp_path, unique_suffix):
    directory = tmp_path / "metrics"
    directory.mkdir()
    stale_run_file(directory)
    port = free_ports(1)[0]
    env = {**os.environ, "MONGO_URI": infra.mongo_uri, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
           "INTERNAL_TOKEN": INTERNAL_TOKEN, "METRICS_TOKEN": METRICS_TOKEN,
           "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), "LOG_LEVEL": "WARNING",
           "CONTACTS_DB": f"test_{unique_suffix}_contacts", "KEYVAULT_DB": f"test_{unique_suffix}_keys",
           "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    master = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(REPO / "services/contacts/gunicorn.conf.py"),
                               "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "gunicorn.log").open("wb"))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{base}/healthz") and len(workers_of(master.pid)) == 2)
        yield base, master.pid, directory
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(timeout=30)
        for name in (env["CONTACTS_DB"], env["KEYVAULT_DB"]):
            mongo_client.drop_database(name)


def test_every_workers_requests_are_summed_even_after_it_exited(contacts_api):
    base, master, directory = contacts_api
    headers = {"X-Internal-Token": INTERNAL_TOKEN, "X-Account-Id": "acc-metrics"}

    def send(count: int) -> None:
        for _ in range(count):  # a new connection each: either worker may take it
            assert requests.get(f"{base}/v1/contacts/{uuid.uuid4()}", headers=headers, timeout=10).status_code == 404

    assert served_count(base) == 0  # the previous run's 1000 were wiped at start
    send(10)
    first = workers_of(master)
    for pid in first:  # every worker that served the first ten exits; gunicorn starts others
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: len(workers_of(master) - first) == 2 and answers(f"{base}/healthz"))
    send(10)
    assert served_count(base) == 20
    pids = {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("counter_*.db")}
    assert pids & first and pids - first  # counted by the exited workers and by their successors


def test_a_request_gunicorn_refuses_is_answered_with_a_problem_not_a_page(contacts_api, tmp_path):
    """gunicorn itself refuses a request line over 4094 bytes or a malformed one, before the app: the answer
    is still the problem+json every operation documents, and the log does not hold the refused line."""
    base, _, _ = contacts_api
    marker = "sophie.marchal-" + uuid.uuid4().hex
    too_long = requests.get(f"{base}/v1/contacts?q={marker}{'x' * 6000}", timeout=10)
    assert too_long.status_code == 414
    assert too_long.headers["Content-Type"] == "application/problem+json"
    assert too_long.json()["type"] == "/problems/uri-too-long" and too_long.json()["status"] == 414

    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(f"GET /v1/contacts?q={marker} HTTP/1.1 extra\r\nHost: x\r\n\r\n".encode())
        answer = raw.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 400 ") and "application/problem+json" in answer
    assert '"/problems/malformed-request"' in answer
    assert marker not in (tmp_path / "gunicorn.log").read_text()
