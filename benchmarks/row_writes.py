"""How many rows each collection had inserted, updated and deleted while a command ran (issue 16's tool).

Runs the command given after `--` (an import, a write load: any benchmark), and reads PostgreSQL's own
counters of rows written per table (`pg_stat_user_tables`: n_tup_ins, n_tup_upd, n_tup_del) on devinfra's local
PostgreSQL (the server under `make run`'s FerretDB) before it and STATS_FLUSH_S after it ends: per collection
(schema = database, FerretDB's table = collection, its hash suffix dropped), and divided by `--per` (the rows
imported, the writes made) to give rows written per unit of work. PostgreSQL counts the rows of rolled-back
statements too (an insert refused on a duplicate key). Whatever else runs meanwhile is counted too (the workers'
leases: a few rows a second): run it on a system doing nothing else. A collection dropped before the end (a
benchmark's scratch database) is not shown; one whose counters went back (statistics reset, a collection dropped
and made again) is named on stderr and left out.

It says what a unit of work costs the database whatever the machine's speed: on FerretDB every row written is a
document converted to JSONB and indexed, so a pipeline that writes 11 rows for each imported row, where a bulk insert
writes one, does 11 times the bulk insert's converting and indexing on the same server (docs/figures.md).

Prints the table and saves JSON under benchmarks/results/. Only for the local FerretDB on PostgreSQL.
    python benchmarks/row_writes.py --per 10000 -- python benchmarks/import_contacts.py --rows 10000
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from reporting import local_psql, save  # noqa: E402

KINDS = ("inserted", "updated", "deleted")
HASH_SUFFIX = re.compile(r"_[0-9a-f]{8}$")
# PostgreSQL 15 reports a busy backend's counters at most every second, and an idle one's only after 10 s
# (PGSTAT_IDLE_INTERVAL): FerretDB's pooled connections go idle after the last statements of the command
STATS_FLUSH_S = 11.0
QUERY = "SELECT schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"


def counters(psql: list[str]) -> Counter:
    """Rows written so far per (database, collection, kind)."""
    return counted(subprocess.run([*psql, "-tA", "-F", "\t", "-c", QUERY], check=True, capture_output=True,
                                  text=True).stdout)


def counted(listing: str) -> Counter:
    """QUERY's tab-separated answer as rows written per (database, collection, kind); a collection's tables of
    two databases stay apart, and FerretDB's hash suffix is dropped from each table's name."""
    found = Counter()
    for line in filter(None, listing.split("\n")):
        schema, table, *written = line.split("\t")
        for kind, count in zip(KINDS, written):
            found[schema, HASH_SUFFIX.sub("", table), kind] += int(count)
    return found


def written_between(before: Counter, after: Counter) -> Counter:
    """What was written in between; a table new since `before` counts from zero. A counter that went back is
    named on stderr and left out."""
    went_back = sorted(key for key in after if after[key] < before.get(key, 0))
    if went_back:
        print(f"counters went back (left out): {went_back}", file=sys.stderr)
    return Counter({key: after[key] - before.get(key, 0) for key in after if after[key] - before.get(key, 0) > 0})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per", type=float, default=1.0, help="units of work the command does (rows, writes)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to run")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if args.per <= 0:
        parser.error("--per must be more than 0")
    psql = local_psql()
    before = counters(psql)
    ran = subprocess.run(command)
    time.sleep(STATS_FLUSH_S)
    written = written_between(before, counters(psql))
    rows = sorted(({"database": database, "collection": collection, "kind": kind, "rows": count,
                    "per_unit": round(count / args.per, 3)} for (database, collection, kind), count in written.items()),
                  key=lambda row: -row["rows"])
    total = sum(written.values())
    print(f"rows written: {total} ({total / args.per:.2f} per unit of {args.per:g})")
    for row in rows[:args.top]:
        print(f"  {row['rows']:9d} {row['per_unit']:8.3f}  {row['kind']:8s} {row['database']}.{row['collection']}")
    save({"benchmark": "row_writes", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
          "command": command, "command_exit": ran.returncode, "per": args.per, "rows_written": total,
          "per_unit": round(total / args.per, 3), "by_collection": rows})
    return ran.returncode if ran.returncode >= 0 else 128 - ran.returncode  # killed by signal N: 128 + N, as a shell


if __name__ == "__main__":
    sys.exit(main())
