"""benchmarks/billing_privacy.py run whole with tiny numbers on the real database, so that it cannot rot: billing's
answer to an export holds every document and kept PDF, its erasure retains the issued invoices and destroys the
others' keys, a redelivery answers nothing more, the statements are counted, and its databases are dropped."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_platform.testing.scripts import load_script, saved_report

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "billing_privacy.py"


@pytest.fixture(scope="module")
def bench():
    return load_script(SCRIPT)


def test_a_person_s_export_and_erasure_are_timed_and_checked_and_the_databases_dropped(bench, infra, mongo_client,
                                                                                        capsys):
    before = set(mongo_client.list_database_names())
    assert bench.main(["--runs", "1", "--invoices", "4", "--quotes", "2", "--others", "1"],
                      {"MONGO_URI": infra.mongo_uri}) == 0
    report_file = saved_report(capsys.readouterr().out)
    report = json.loads(report_file.read_text())
    report_file.unlink()
    [run] = report["runs"]
    assert run["check"] == {"invoices_exported": 4, "quotes_exported": 2, "pdfs_exported": 2, "outcome": "retained",
                            "retained": 2, "keys_destroyed": 4, "replies_after_redelivery": 1, "ok": True}
    for phase in ("export", "erasure"):
        assert run[phase]["ms"] > 0 and run[phase]["statements"] == sum(
            counted["statements"] for counted in run[phase]["by_collection"].values())
    assert "insert event_commits" in run["erasure"]["by_collection"]  # the reply, at least
    assert report["summary"]["erasure"]["p50_ms"] == run["erasure"]["ms"] and report["check"]["ok"]
    assert not {name for name in set(mongo_client.list_database_names()) - before if name.startswith("bench_")}
