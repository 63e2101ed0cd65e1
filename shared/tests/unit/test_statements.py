"""The statement counter the no-`$in` tests and the benchmarks use: an operator is matched as a key, so the event
store's position counter (`$inc`) is not taken for an `$in` scan."""
from types import SimpleNamespace

from crm_platform.testing.statements import Statements


def started(name: str, command: dict) -> SimpleNamespace:
    return SimpleNamespace(command_name=name, command={name: "coll", **command}, request_id=1)


def test_an_in_is_found_and_an_inc_is_not_taken_for_one():
    statements = Statements()
    statements.started(started("findAndModify", {"update": {"$inc": {"value": 1}}}))
    statements.started(started("find", {"filter": {"_id": {"$in": ["a", "b"]}}}))
    assert [command["find"] for command in statements.using("$in")] == ["coll"]
    assert [command["findAndModify"] for command in statements.using("$inc")] == ["coll"]


def test_an_explain_is_not_counted_as_a_statement_of_the_code_under_test():
    statements = Statements()
    statements.started(SimpleNamespace(command_name="explain", request_id=2,
                                       command={"explain": {"find": "coll", "filter": {"owner": ""}}}))
    statements.started(started("find", {"filter": {"owner": "a"}}))
    assert statements.names == ["find"]
