"""Runs the whole system as real processes (every registry service's gunicorn API and worker) against the real
broker and database."""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from devinfra.ports import free_ports

from crm_platform import registry

REPO = Path(__file__).resolve().parents[2]


class System:
    def __init__(self, env: dict, log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.gateway_url = ""
        self.metrics_urls: dict[str, str] = {}  # process name -> its /metrics (an api's needs METRICS_TOKEN)
        self.processes: dict[str, registry.Process] = {}
        self.ports: dict[str, int] = {}  # process name -> the port it was started on
        self.smtp_sink = None  # the SMTP server every worker sends its mail to (crm_platform.testing.smtp_sink)

    def start(self, name: str, args: list[str], env: dict | None = None) -> None:
        log = open(self.log_dir / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(args, env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=REPO, start_new_session=True)

    def run(self, process: registry.Process, port: int) -> None:
        """Start one registry process: an api under gunicorn on `port`, a worker with python -m serving its
        metrics on `port`."""
        self.metrics_urls[process.name] = f"http://127.0.0.1:{port}/metrics"
        self.processes[process.name] = process
        self.ports[process.name] = port
        if process.kind == "api":
            config = str(REPO / f"services/{process.service}/gunicorn.conf.py")
            self.start(process.name, [sys.executable, "-m", "gunicorn", "-c", config,
                                      "--bind", f"127.0.0.1:{port}", "--workers", "1", process.target])
        else:
            # its own heartbeat file: two systems on one machine (two clones' tests) must not share /tmp's
            self.start(process.name, [sys.executable, "-m", process.target],
                       {**self.env, "METRICS_PORT": str(port),
                        "WORKER_HEARTBEAT_FILE": str(self.log_dir / f"{process.name}.heartbeat")})

    def wait_ready(self, url: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited early:\n{self.log(name)[-3000:]}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{url} not ready in {timeout_s}s")

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def state(self, lines_per_process: int = 15) -> str:
        """Each process: running or its exit code, and its last warnings and errors (logs carry no personal
        data): attached to a failed test's report, so that a failure on CI, where the logs are gone after the
        run, says which process stopped or complained."""
        parts = []
        for name, proc in self.procs.items():
            code = proc.poll()
            complaints = [line for line in self.log(name).splitlines()
                          if '"level": "INFO"' not in line and '"level": "DEBUG"' not in line
                          and "blocking the event loop" not in line]  # kafka-python's note of a slow task
            parts.append(f"{name}: {'running' if code is None else f'exited with {code}'}"
                         + "".join(f"\n    {line[:600]}" for line in complaints[-lines_per_process:]))
        return "\n".join(parts)

    def cli(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", *args], env=self.env, cwd=REPO, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def create_account(self, name: str) -> dict:
        return json.loads(self.cli("gateway.entrypoints.cli", "create-account", "--name", name, "--json"))

    def kill_and_restart(self, name: str) -> None:
        """SIGKILL one process (no clean shutdown: what a crash or an OOM kill does), then start it again."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        self.run(self.processes[name], free_ports(1)[0])

    @contextmanager
    def stopped(self, name: str):
        """One api process stopped (SIGKILL: as if its host went away) for the block, then started again on its
        port, where the gateway's <NAME>_URL points, and ready."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        try:
            yield
        finally:
            self.run(self.processes[name], self.ports[name])
            self.wait_ready(f"http://127.0.0.1:{self.ports[name]}/readyz")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


E2E_RATE_LIMITS = {"RATE_LIMIT_KEY_PER_SECOND": "10000", "RATE_LIMIT_KEY_PER_MINUTE": "1000000",
                   "RATE_LIMIT_ACCOUNT_PER_MINUTE": "1000000", "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE": "5000"}


@pytest.fixture(scope="session")
def system(infra, tmp_path_factory, mongo_client):
    from crm_platform.testing.smtp_sink import SmtpSink  # aiosmtpd is a test requirement

    suffix = os.urandom(4).hex()
    services = registry.load()
    smtp_sink = SmtpSink().start()
    # one call: ports chosen by separate calls can be the same (each is free when it is picked)
    ports = dict(zip((p.name for p in services.processes), free_ports(len(services.processes))))
    env = {
        **os.environ,
        "MONGO_URI": infra.mongo_uri,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "KAFKA_TOPIC_NAMESPACE": f"e2e-{suffix}.",
        "INTERNAL_TOKEN": base64.urlsafe_b64encode(os.urandom(24)).decode(),
        "METRICS_TOKEN": base64.urlsafe_b64encode(os.urandom(24)).decode(),
        "GATEWAY_SERVES_METRICS": "true",
        "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "PRIVACY_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),  # signs privacy certificates
        "KEYVAULT_DB": f"e2e_{suffix}_keys",
        "PRIVACY_EXCHANGE_DB": f"e2e_{suffix}_exchange",
        **{s.db_setting: f"e2e_{suffix}_{s.name.replace('-', '_')}" for s in services.services},
        **{s.url_variable: f"http://127.0.0.1:{ports[s.process('api').name]}" for s in services.upstreams},
        "LOG_LEVEL": "INFO",
        # The suites send requests faster than one small business would: key and account limits far above
        # that, so that none is refused (the limits themselves, and that a valid key is never refused for its
        # address, are tested in services/gateway/tests). Failed authentications too: the fuzzer's auth check
        # sends requests without a valid key to every operation and expects 401, not the 429 past the limit;
        # with billing and workflows in the document that is well over 100 a minute from 127.0.0.1.
        **E2E_RATE_LIMITS,
        # billing's recurring-invoice scheduler looks for what is due every second, not every minute
        "RECURRING_SCHEDULE_EVERY_S": "1",
        "SMTP_HOST": smtp_sink.host, "SMTP_PORT": str(smtp_sink.port), "SMTP_TLS": "none",
        # webhooks to the tests' local receivers, retried half a second apart (docs/webhooks.md)
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_RETRY_DELAYS_S": "0.5",
    }
    system = System(env, tmp_path_factory.mktemp("logs"))
    system.smtp_sink = smtp_sink
    try:
        try:
            for process in services.processes:
                system.run(process, ports[process.name])
            # Every api, not only the gateway's: a test's first call must not race a service still starting.
            for service in services.services:
                system.wait_ready(f"http://127.0.0.1:{ports[service.process('api').name]}/readyz")
        except Exception as exc:  # a start that fails says, as a failed test does, what each process said
            raise RuntimeError(f"{exc}\n{system.state()}") from exc
        system.gateway_url = f"http://127.0.0.1:{ports[services.public.process('api').name]}"
        yield system
    finally:
        system.stop()
        smtp_sink.stop()
        for db in ("KEYVAULT_DB", "PRIVACY_EXCHANGE_DB", *(s.db_setting for s in services.services)):
            mongo_client.drop_database(env[db])


@pytest.fixture(scope="session")
def account_a(system):
    return system.create_account("Maison du Papier")


@pytest.fixture(scope="session")
def account_b(system):
    return system.create_account("Autre Agence")


def bearer(account: dict) -> dict:
    return {"Authorization": f"Bearer {account['api_key']}"}


def eventually(fetch, condition, timeout_s: float = 30.0, interval_s: float = 0.1):
    """Poll `fetch()` until `condition(result)` holds (projections are eventually consistent)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if condition(result) or time.monotonic() > deadline:
            return result
        time.sleep(interval_s)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used the running system reports the state of its processes (System.state)."""
    outcome = yield
    report = outcome.get_result()
    system = (getattr(item, "funcargs", None) or {}).get("system")
    if report.failed and isinstance(system, System):
        try:
            report.sections.append(("system processes", system.state()))
        except Exception as exc:  # nothing here may hide the failure itself (an error here is pytest's own)
            report.sections.append(("system processes", f"not readable: {exc!r}"))
