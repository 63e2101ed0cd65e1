"""benchmarks/recurring_occurrences.py run whole with tiny numbers on the real database, so that it cannot rot: the
scheduler's rounds generate exactly the due occurrences, numbered without a gap, and its databases are dropped."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "recurring_occurrences.py"


@pytest.fixture(scope="module")
def bench():
    """The script as a module; the path entries and the benchmarks/ modules its loading adds are taken away again,
    so that other test modules import as they would without it."""
    path, modules = list(sys.path), set(sys.modules)
    spec = importlib.util.spec_from_file_location("recurring_occurrences", SCRIPT)
    module = sys.modules["recurring_occurrences"] = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(SCRIPT.parent)):
                del sys.modules[name]
    return module


def saved_report(out: str) -> Path:
    return Path(next(line for line in out.splitlines() if line.startswith("saved "))[len("saved "):])


def test_occurrences_are_spread_over_the_schedules_to_the_last_one(bench):
    assert bench.split(20, 3) == [7, 7, 6]
    assert bench.split(10000, 100) == [100] * 100


def test_twenty_due_occurrences_are_twenty_gapless_invoices_and_the_databases_are_dropped(bench, infra, mongo_client,
                                                                                          capsys):
    before = set(mongo_client.list_database_names())
    assert bench.main(["--occurrences", "23", "--schedules", "5"], {"MONGO_URI": infra.mongo_uri}) == 0
    report_file = saved_report(capsys.readouterr().out)
    report = json.loads(report_file.read_text())
    report_file.unlink()
    check = report["check"]
    assert (check["invoices_generated"], check["occurrences_recorded"], check["numbers_listed"]["count"]) == (23, 23, 23)
    assert check["numbers_listed"]["unique"] and check["numbers_listed"]["gapless"] and check["ok"]
    assert report["rounds"][-1]["invoices"] == 0 and sum(r["invoices"] for r in report["rounds"]) == 23
    assert report["occurrences_per_s"] > 0
    assert not {name for name in set(mongo_client.list_database_names()) - before if name.startswith("bench_")}
