"""benchmarks/recurring_occurrences.py run whole with tiny numbers on the real database, so that it cannot rot: the
scheduler's rounds generate exactly the due occurrences, numbered without a gap, and its databases are dropped."""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from crm_platform.testing.scripts import load_script, saved_report

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "recurring_occurrences.py"


@pytest.fixture(scope="module")
def bench():
    return load_script(SCRIPT)


def test_occurrences_are_spread_over_the_schedules_to_the_last_one(bench):
    assert bench.split(20, 3) == [7, 7, 6]
    assert bench.split(10000, 100) == [100] * 100


class WorkerLikeContainer:
    """What ReadModelsCatchUp uses of billing's Container: the events stored, and what each was given to."""

    def __init__(self, events: int) -> None:
        self.stored = [SimpleNamespace(event_id=f"event-{i}") for i in range(events)]
        self.event_store = SimpleNamespace(read_all=lambda: iter(self.stored))
        self.batches, self.applied, self._open = [], [], None

    @contextlib.contextmanager
    def documents_batch(self, envelopes):
        self.batches.append([e.event_id for e in envelopes])
        self._open = self.batches[-1]
        yield
        self._open = None

    def apply_to_documents(self, envelope, rebuilding=False):
        assert self._open is not None and envelope.event_id in self._open  # inside its batch's block, as the worker
        self.applied.append(envelope.event_id)


def test_the_catch_up_gives_the_events_in_the_worker_s_polled_batches_each_once(bench):
    container = WorkerLikeContainer(bench.ReadModelsCatchUp.BATCH + 50)
    catch_up = bench.ReadModelsCatchUp(container)
    assert catch_up() == bench.ReadModelsCatchUp.BATCH + 50
    assert [len(batch) for batch in container.batches] == [bench.ReadModelsCatchUp.BATCH, 50]
    assert container.applied == [e.event_id for e in container.stored]
    container.stored.append(SimpleNamespace(event_id="event-new"))
    assert catch_up() == 1 and container.batches[-1] == ["event-new"] and container.applied[-1] == "event-new"


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
