"""What every benchmark here shares: percentiles, where it ran, the local settings, and saving its report."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("CRM_VAR_DIR", REPO / "var"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def database_server() -> str:
    try:
        out = subprocess.run([sys.executable, "-m", "devinfra", "status"], capture_output=True, text=True, timeout=30)
        line = next((l for l in out.stdout.splitlines() if l.startswith("mongo")), "")
        return line.split("server=", 1)[1] if "server=" in line else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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
