"""benchmarks/issue_invoices.py run whole with tiny numbers against the running system, so that it cannot rot:
every draft is issued on several threads at once, and the numbers returned and listed are unique and gapless."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_platform.testing.scripts import load_script

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "issue_invoices.py"


@pytest.fixture(scope="module")
def bench():
    return load_script(SCRIPT)


def test_the_numbering_check_finds_a_gap_a_duplicate_and_a_missing_number(bench):
    assert bench.numbering_check(["F-2026-0002", "F-2026-0001", "F-2025-0001"], 3)["ok"]
    gap = bench.numbering_check(["F-2026-0001", "F-2026-0003"], 2)
    assert (gap["gapless"], gap["missing"], gap["ok"]) == (False, {"F-2026-": [2]}, False)
    assert not bench.numbering_check(["F-2026-0001", "F-2026-0001"], 2)["unique"]
    assert not bench.numbering_check(["F-2026-0001", None], 2)["ok"]


def test_twenty_invoices_issued_on_four_threads_are_numbered_one_to_twenty(bench, system, capsys):
    assert bench.main(["--gateway", system.gateway_url, "--invoices", "20", "--threads", "4", "--contacts", "3"],
                      system.env) == 0
    out = capsys.readouterr().out
    report_file = Path(next(line for line in out.splitlines() if line.startswith("saved "))[len("saved "):])
    report = json.loads(report_file.read_text())
    report_file.unlink()
    assert (report["drafts"]["requests_ok"], report["issues"]["requests_ok"]) == (20, 20)
    assert report["issues"]["per_s"] > 0 and report["issues"]["latency_ms"]["p50"] > 0
    for check in (report["numbers_returned"], report["numbers_listed"]):
        assert (check["count"], check["unique"], check["gapless"]) == (20, True, True)
    assert report["numbers_listed"]["same_as_returned"]
