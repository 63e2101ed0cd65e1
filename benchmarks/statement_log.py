"""Which statements reach PostgreSQL under FerretDB for a while, by kind and collection (issue 16's tool).

Turns PostgreSQL's `log_min_duration_statement` to 0 on devinfra's local PostgreSQL (the server under
`make run`'s FerretDB) for `--seconds` (default 10), without the statements' values
(`log_parameter_max_length` 0: they are personal data), puts both back, and reads what the server logged meanwhile
from its log (var/log/postgres.log): the statements by kind (SELECT, INSERT, UPDATE, DELETE, begin, commit)
and by collection (schema = database, FerretDB's table = collection, its hash suffix dropped), with their count
and their time in PostgreSQL, the largest first. Run it while the load you want to see runs (an import, a
write load): a FerretDB statement that appears thousands of times, or one that takes milliseconds, is what to
make indexed or fewer. Statements without a table (begin, commit) are counted apart.

Prints the two tables and saves JSON under benchmarks/results/. Only for the local FerretDB on PostgreSQL.
    python benchmarks/statement_log.py [--seconds 10] [--top 20]
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
sys.path.insert(0, str(REPO / "infra"))
from reporting import local_psql, save  # noqa: E402

LOGGED = re.compile(r"duration: ([0-9.]+) ms\s+(?:statement|execute [^:]*|bind [^:]*|parse [^:]*): (\w+)(.*)")
TABLE = re.compile(r'"([\w.-]+)"\."([\w.-]+?)(?:_[0-9a-f]{8})?"')


def tally(lines) -> tuple[Counter, Counter]:
    """(count, milliseconds) per (kind, database, collection) of the logged statements among `lines`."""
    counts, millis = Counter(), Counter()
    for line in lines:
        logged = LOGGED.search(line)
        if logged is None:
            continue
        table = TABLE.search(logged.group(3))
        key = (logged.group(2), *(table.groups() if table else ("-", "-")))
        counts[key] += 1
        millis[key] += float(logged.group(1))
    return counts, millis


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    from devinfra.config import Config

    psql = local_psql()
    log = Config.from_env().log_path("postgres")
    start = log.stat().st_size
    # every statement, but not its values: they hold the contacts' names and addresses, which no log may keep
    settings = {"log_min_duration_statement": "0", "log_parameter_max_length": "0"}
    subprocess.run([*psql, *(f"-cALTER SYSTEM SET {name} = {value}" for name, value in settings.items()),
                    "-c", "SELECT pg_reload_conf()"], check=True, capture_output=True)
    try:
        time.sleep(args.seconds)
    finally:
        subprocess.run([*psql, *(f"-cALTER SYSTEM RESET {name}" for name in settings), "-c", "SELECT pg_reload_conf()"],
                       check=True, capture_output=True)
    with log.open(errors="replace") as lines:
        lines.seek(start)
        counts, millis = tally(lines)
    rows = [{"kind": kind, "database": database, "collection": collection, "statements": n,
             "postgres_ms": round(millis[kind, database, collection])}
            for (kind, database, collection), n in counts.items()]
    for title, order in (("by time in PostgreSQL", "postgres_ms"), ("by count", "statements")):
        print(f"{title}:")
        for row in sorted(rows, key=lambda r: -r[order])[:args.top]:
            print(f"  {row['statements']:7d} {row['postgres_ms']:8d} ms  {row['kind']:7s} "
                  f"{row['database']}.{row['collection']}")
    save({"benchmark": "statement_log", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
          "seconds": args.seconds, "statements": sum(counts.values()), "per_second": round(sum(counts.values())
                                                                                            / args.seconds),
          "by_collection": sorted(rows, key=lambda r: -r["statements"])})
    return 0


if __name__ == "__main__":
    sys.exit(main())
