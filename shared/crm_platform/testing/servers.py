"""Which kind of MongoDB-protocol server a test runs on, from the shape of its query plans (not from the
`filterPushdown` flag that crm_platform.query_plans reads, which tests of it must not take on trust)."""
from __future__ import annotations

from pymongo.database import Database


def server_kind(db: Database) -> str:
    """"mongod", "ferretdb-postgresql" or "ferretdb-sqlite": the plan of a find on a collection made here says it
    (MongoDB's has a winning plan; FerretDB's is its backend's EXPLAIN: a PostgreSQL plan node, or SQLite's rows)."""
    db["server_kind_probe"].update_one({"_id": "probe"}, {"$set": {"seen": True}}, upsert=True)
    planner = db.command("explain", {"find": "server_kind_probe", "filter": {"_id": "probe"}},
                         verbosity="queryPlanner").get("queryPlanner", {})
    if "winningPlan" in planner:
        return "mongod"
    plan = planner.get("Plan")
    if isinstance(plan, dict):
        return "ferretdb-postgresql"
    if isinstance(plan, list):
        return "ferretdb-sqlite"
    raise AssertionError(f"a query plan of an unknown server: {planner!r}")


def scans_for_equalities(db: Database) -> bool:
    """Whether the server reads a whole collection for an equality on a field other than `_id`."""
    return server_kind(db) == "ferretdb-sqlite"
