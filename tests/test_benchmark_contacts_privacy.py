"""benchmarks/contacts_privacy.py run whole with tiny numbers on the real database, so that it cannot rot: contacts'
answer to an export holds the contact, every note, file and the picture; its erasure destroys the contact's key and
the import's that lists the person, releases their claims, the read models keep only tombstones, a redelivery
answers nothing more, the statements are counted, and its databases are dropped."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_platform.testing.scripts import load_script, saved_report

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "contacts_privacy.py"


@pytest.fixture(scope="module")
def bench():
    return load_script(SCRIPT)


def test_a_person_s_export_and_erasure_are_timed_and_checked_and_the_databases_dropped(bench, infra, mongo_client,
                                                                                        capsys):
    before = set(mongo_client.list_database_names())
    assert bench.main(["--runs", "1", "--notes", "5", "--files", "2", "--others", "1"],
                      {"MONGO_URI": infra.mongo_uri}) == 0
    report_file = saved_report(capsys.readouterr().out)
    report = json.loads(report_file.read_text())
    report_file.unlink()
    [run] = report["runs"]
    check = run["check"]
    assert check.pop("keys_destroyed")[0].startswith("contact:")
    assert check == {"contacts_exported": 1, "notes_exported": 5, "files_exported": 3, "labels_exported": 2,
                     "item_count": 9, "outcome": "erased", "items_erased": 10, "claims_left": 0, "notes_readable": 0,
                     "contact_tombstoned": 1, "import_forgotten": True, "replies_after_redelivery": 1, "ok": True}
    for phase in ("export", "erasure"):
        assert run[phase]["ms"] > 0 and run[phase]["statements"] == sum(
            counted["statements"] for counted in run[phase]["by_collection"].values())
    assert "insert event_commits" in run["erasure"]["by_collection"]  # the reply, at least
    assert report["summary"]["erasure"]["p50_ms"] == run["erasure"]["ms"] and report["check"]["ok"]
    assert not {name for name in set(mongo_client.list_database_names()) - before if name.startswith("bench_")}
