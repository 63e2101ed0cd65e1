"""Whether the server answers an equality from an index, in its own words (FerretDB's explain), on the real server."""
from pymongo import MongoClient, monitoring

from crm_platform import query_plans
from crm_platform.testing.servers import scans_for_equalities


class Explains(monitoring.CommandListener):
    def __init__(self) -> None:
        self.asked = 0

    def started(self, event) -> None:
        self.asked += event.command_name == "explain"

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


def test_the_server_is_asked_once_a_shape(infra, mongo_db, monkeypatch):
    monkeypatch.setattr(query_plans, "_VERDICTS", {})
    explains = Explains()
    things = MongoClient(infra.mongo_uri, event_listeners=[explains])[mongo_db.name]["things"]
    assert query_plans.server_scans_for(things, {"owner": "a"}) is False  # nothing to scan yet
    things.insert_one({"_id": "t1", "owner": "a"})
    query_plans.server_scans_for(things, {"owner": "a"})  # FerretDB is asked again now: it had no plan before
    asked = explains.asked
    for owner in ("b", "c"):
        query_plans.server_scans_for(things, {"owner": owner})
    assert explains.asked == asked  # remembered
    assert query_plans.server_scans_for(things, {"_id": "t1"}) is False  # every server reads `_id` by its index
    assert explains.asked == asked + 1


def test_only_ferretdb_over_sqlite_is_said_to_scan(infra, mongo_db, monkeypatch):
    """The verdict against the kind of server, told from the shape of its plans (a PostgreSQL plan, SQLite's rows,
    MongoDB's winning plan): over PostgreSQL or on MongoDB a field's equality is served by the index."""
    monkeypatch.setattr(query_plans, "_VERDICTS", {})
    mongo_db["things"].insert_one({"_id": "t1", "owner": "a"})
    assert query_plans.server_scans_for(mongo_db["things"], {"owner": "a"}) is scans_for_equalities(mongo_db)
