"""What every benchmark here shares: percentiles, where it ran, the local settings, and saving its report."""
from __future__ import annotations

import base64
import cProfile
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("CRM_VAR_DIR", REPO / "var"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def mongo_uri(env: dict) -> str:
    """MONGO_URI if set, else the local server's (`python -m devinfra env`)."""
    if env.get("MONGO_URI"):
        return env["MONGO_URI"]
    out = subprocess.run([sys.executable, "-m", "devinfra", "env"], check=True, capture_output=True, text=True).stdout
    return next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("export MONGO_URI="))


def database_server() -> str:
    try:
        out = subprocess.run([sys.executable, "-m", "devinfra", "status"], capture_output=True, text=True, timeout=30)
        line = next((l for l in out.stdout.splitlines() if l.startswith("mongo")), "")
        return line.split("server=", 1)[1] if "server=" in line else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def devinfra_index() -> str:
    """`python -m devinfra index` once (the GIN indexes `make run` keeps; nothing to do on another server): its
    last line of output."""
    done = subprocess.run([sys.executable, "-m", "devinfra", "index"], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(REPO / "infra")})
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[-1] if lines else ""


def local_psql() -> list[str]:
    """psql against devinfra's local PostgreSQL (the server under `make run`'s FerretDB), as its superuser, on the
    database FerretDB keeps its collections in, stopping at the first error: add `-c` and the statement."""
    if str(REPO / "infra") not in sys.path:
        sys.path.insert(0, str(REPO / "infra"))
    from devinfra.config import Config
    from devinfra.postgres import require_bin_dir

    return [str(require_bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(Config.from_env().postgres_port),
            "-U", "postgres", "-d", "ferretdb", "-X", "-q", "-v", "ON_ERROR_STOP=1"]


SERVICES = ("contacts", "billing", "workflows", "privacy", "gateway")


def cpu_seconds_by_process() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) used so far by each process of the running system, with the part it belongs to,
    from /proc (Linux): each service's API (its gunicorn processes) and worker, FerretDB, PostgreSQL and Kafka.
    Take it before and after what you measure; `cpu_used` adds up the differences by part."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, tuple[str, float]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        part = _system_part(args)
        if part is not None:
            used[int(pid)] = (part, (int(fields[11]) + int(fields[12])) / ticks)
    return used


def cpu_used(before: dict, after: dict) -> dict:
    """The CPU seconds each part used between two `cpu_seconds_by_process`, the largest first, and their total: a
    process alive at both counts what it used in between, one started in between all it used. One that exited in
    between is not counted (FerretDB's PostgreSQL connections come and go: PostgreSQL's figure errs low)."""
    used: Counter = Counter()
    for pid, (part, seconds) in after.items():
        earlier = before.get(pid)
        used[part] += seconds - (earlier[1] if earlier is not None and earlier[0] == part else 0.0)
    ranked = {part: round(seconds, 1) for part, seconds in sorted(used.items(), key=lambda item: -item[1])}
    return {"total": round(sum(used.values()), 1), **ranked}


def _system_part(args: str) -> str | None:
    if "keep_running.py" in args or "honcho" in args:
        return None  # the wrappers that restart a process: idle
    program = args.split(" ", 1)[0]
    if "ferretdb" in program:
        return "ferretdb"
    if args.startswith("postgres") or program.endswith("/bin/postgres"):
        return "postgresql"
    if "kafka.Kafka" in args:
        return "kafka"
    for service in SERVICES:
        if f"{service}.entrypoints.api" in args and "gunicorn" in args:
            return f"{service}-api"
        if f"{service}.entrypoints.worker" in args:
            return f"{service}-worker"
    return None


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load_env() -> dict:
    """The environment of `make run`'s processes (var/dev.env), under this process's own."""
    values = dict(os.environ)
    for line in (VAR / "dev.env").read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values.setdefault(key, value)
    return values


def save(report: dict) -> None:
    """Add where it ran and how loaded the machine was as it ended (the 1, 5 and 15 minute load averages), print
    it, and keep it under benchmarks/results/ (not committed)."""
    report.update(database_server=database_server(), machine=machine(), load_average=os.getloadavg())
    print(json.dumps(report, indent=2))
    out = REPO / "benchmarks" / "results" / f"{report['benchmark']}-{report['at'].replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"saved {out}")


class PatientSession(requests.Session):
    """Waits out 429s (the rate limits of make run) instead of failing the seeding."""

    def request(self, method, url, **kwargs):
        while True:
            answer = super().request(method, url, **kwargs)
            if answer.status_code != 429:
                return answer
            time.sleep(float(answer.headers.get("Retry-After", "1")))


class ReadModelsCatchUp:
    """A service's own events given to its read models, each once, as its worker's consumer gives them from Kafka:
    in polled batches of BATCH (its max_poll_records, crm_platform.kafka_clients), each in the consumer's batch
    block, then event by event. The event store read from the start, the events already given skipped. Billing's
    container by default (`documents_batch`, `apply_to_documents`); another service names its own."""

    BATCH = 200

    def __init__(self, container, batch: str = "documents_batch", apply: str = "apply_to_documents") -> None:
        self.container, self.given = container, set()
        self._batch, self._apply = getattr(container, batch), getattr(container, apply)

    def __call__(self) -> int:
        new = [envelope for envelope in self.container.event_store.read_all() if envelope.event_id not in self.given]
        for start in range(0, len(new), self.BATCH):
            batch = new[start:start + self.BATCH]
            with self._batch(batch):
                for envelope in batch:
                    self._apply(envelope)
            self.given.update(envelope.event_id for envelope in batch)
        return len(new)


def privacy_request_envelope(request):
    """A privacy request (crm_platform.contracts.privacy) as privacy.events carries it."""
    from crm_platform.contracts.privacy import PRIVACY_REQUEST_AGGREGATE_TYPE, SUBJECT_REQUEST_CLASSES
    from crm_platform.event_codec import EventCodec
    return EventCodec(SUBJECT_REQUEST_CLASSES).to_envelope(request, PRIVACY_REQUEST_AGGREGATE_TYPE, request.request_id,
                                                           1, request.account_id)


def privacy_reply(container, request_id: str) -> dict:
    """The payload of the reply the service's privacy handler stored for the request."""
    [answer] = [e for e in container.event_store.load(request_id) if e.aggregate_type == "PrivacyReply"]
    return answer.payload


def privacy_replies(container, request_id: str) -> int:
    return len([e for e in container.event_store.load(request_id) if e.aggregate_type == "PrivacyReply"])


def timed_answer(handler, statements, request, profile: bool) -> dict:
    """The privacy handler's answer to the request: milliseconds, statements (a
    crm_platform.testing.statements.TimedStatements) by collection and command, and a cProfile if asked."""
    statements.clear()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    handler.handle(privacy_request_envelope(request))
    if profiler:
        profiler.disable()
    ms = (time.perf_counter() - started) * 1000
    by_collection = Counter(f"{name} {command.get(name)}" for name, command in zip(statements.names,
                                                                                   statements.commands))
    result = {"ms": round(ms, 1), "statements": len(statements.names), "with_in": len(statements.using("$in")),
              "by_collection": {what: {"statements": count, "server_ms": round(statements.micros[what] / 1000, 1)}
                                for what, count in by_collection.most_common()}}
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        result["profile"] = out.getvalue()
    return result


def print_answer_summary(whose: str, runs: int, report: dict) -> int:
    """The one line a privacy-answer benchmark ends with (export and erasure p50 and max, the load, the check);
    its exit code: 0 if the check passed."""
    summary = report["summary"]
    print(f"{whose} answer, {runs} runs: export p50 {summary['export']['p50_ms']:.0f} ms (max "
          f"{summary['export']['max_ms']:.0f}), erasure p50 {summary['erasure']['p50_ms']:.0f} ms (max "
          f"{summary['erasure']['max_ms']:.0f}); load average before {report['load_average_before']}: "
          f"{'OK' if report['check']['ok'] else 'FAILED'}", flush=True)
    return 0 if report["check"]["ok"] else 1


def throwaway_container(container_class, config_module, uri: str, suffix: str, databases: dict[str, str],
                        listener=None):
    """A service's Container on throwaway databases of that server (`databases`: setting -> name prefix, each
    named bench_<suffix>_<prefix>), with its indexes; every statement it sends given to `listener` (a pymongo
    CommandListener) if one is. No event is relayed: Kafka is never reached."""
    from crm_platform.mongo import MongoConnection

    container = container_class(config_module.load({
        "MONGO_URI": uri, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "KAFKA_TOPIC_NAMESPACE": f"bench-{suffix}.",
        "INTERNAL_TOKEN": base64.urlsafe_b64encode(os.urandom(24)).decode(),
        "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), "LOG_LEVEL": "WARNING",
        **{setting: f"bench_{suffix}_{name}" for setting, name in databases.items()}}))
    if listener is not None:
        container.mongo = MongoConnection(uri, f"{suffix}-bench", event_listeners=[listener])
    container.ensure_indexes()
    return container


def print_run_line(run: int, export: dict, erasure: dict, again: dict, check: dict) -> None:
    """The line a privacy-answer benchmark prints per run."""
    print(f"  run {run + 1}: export {export['ms']:.0f} ms ({export['statements']} statements), erasure "
          f"{erasure['ms']:.0f} ms ({erasure['statements']} statements), redelivered {again['ms']:.0f} ms: "
          f"{'OK' if check['ok'] else 'FAILED ' + repr(check)}", flush=True)
