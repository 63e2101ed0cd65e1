"""The pure parts of benchmarks/row_writes.py (issue 16's rows written per unit of work): reading PostgreSQL's
counters and taking their difference. The whole script is run against a running system, not here."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from crm_platform.testing.scripts import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "row_writes.py"


def test_counters_are_read_per_database_collection_and_kind_without_ferretdb_s_hash():
    bench = load_script(SCRIPT)
    listing = ("crm_contacts\tcontacts_cedcb8f0\t10\t2\t0\n"
               "crm_contacts\tcontacts_0a1b2c3d\t1\t0\t0\n"  # read as the same collection: added up
               "crm_workflows\tcontacts_cedcb8f0\t7\t0\t1\n"
               "crm_contacts\t_ferretdb_database_metadata\t3\t4\t5\n")
    assert bench.counted(listing) == Counter({
        ("crm_contacts", "contacts", "inserted"): 11, ("crm_contacts", "contacts", "updated"): 2,
        ("crm_workflows", "contacts", "inserted"): 7, ("crm_workflows", "contacts", "deleted"): 1,
        ("crm_contacts", "_ferretdb_database_metadata", "inserted"): 3,
        ("crm_contacts", "_ferretdb_database_metadata", "updated"): 4,
        ("crm_contacts", "_ferretdb_database_metadata", "deleted"): 5})


def test_what_was_written_in_between_counts_a_new_table_from_zero_and_leaves_out_the_unchanged(capsys):
    bench = load_script(SCRIPT)
    before = Counter({("db", "commits", "inserted"): 100, ("db", "outbox", "deleted"): 40,
                      ("db", "remade", "inserted"): 70})
    after = Counter({("db", "commits", "inserted"): 130, ("db", "outbox", "deleted"): 40,
                     ("db", "scratch", "inserted"): 5, ("db", "remade", "inserted"): 3})
    assert dict(bench.written_between(before, after)) == {("db", "commits", "inserted"): 30,
                                                          ("db", "scratch", "inserted"): 5}
    named = capsys.readouterr().err
    assert "('db', 'remade', 'inserted')" in named  # went back: named, not counted
    assert "outbox" not in named and "commits" not in named  # unchanged or grown: not named
