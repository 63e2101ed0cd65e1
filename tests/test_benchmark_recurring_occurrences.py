"""benchmarks/recurring_occurrences.py run whole with tiny numbers on the real database, so that it cannot rot: the
scheduler's rounds generate exactly the due occurrences, numbered without a gap, and its databases are dropped."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_platform.testing.scripts import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "recurring_occurrences.py"


@pytest.fixture(scope="module")
def bench():
    return load_script(SCRIPT)


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
