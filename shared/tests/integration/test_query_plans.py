"""Whether the server answers an equality from an index, in its own words (FerretDB's explain), on the real server."""
from pymongo import MongoClient, monitoring

from crm_platform import query_plans


class Explains(monitoring.CommandListener):
    def __init__(self) -> None:
        self.asked = 0

    def started(self, event) -> None:
        self.asked += event.command_name == "explain"

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


def test_the_server_is_asked_once_a_shape_and_not_about_a_collection_not_created_yet(infra, mongo_db, monkeypatch):
    monkeypatch.setattr(query_plans, "_VERDICTS", {})
    explains = Explains()
    things = MongoClient(infra.mongo_uri, event_listeners=[explains])[mongo_db.name]["things"]
    assert query_plans.server_scans_for(things, {"owner": "a"}) is False  # nothing to scan yet: asked again later
    things.insert_one({"_id": "t1", "owner": "a"})
    verdicts = [query_plans.server_scans_for(things, {"owner": owner}) for owner in ("a", "b", "c")]
    assert explains.asked == 2 and len(set(verdicts)) == 1
    assert query_plans.server_scans_for(things, {"_id": "t1"}) is False  # every server reads `_id` by its index
    assert explains.asked == 3


def test_the_verdict_is_the_server_s_own(infra, mongo_db, monkeypatch):
    """FerretDB says `filterPushdown` (false over SQLite); MongoDB says nothing and indexes what is declared."""
    monkeypatch.setattr(query_plans, "_VERDICTS", {})
    mongo_db["things"].insert_one({"_id": "t1", "owner": "a"})
    plan = mongo_db.command("explain", {"find": "things", "filter": {"owner": "a"}}, verbosity="queryPlanner")
    assert query_plans.server_scans_for(mongo_db["things"], {"owner": "a"}) is (plan.get("filterPushdown") is False)
