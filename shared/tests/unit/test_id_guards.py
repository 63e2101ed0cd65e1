"""A guard judged in Python as the server judges it, for the operators guards use (crm_platform.id_guards)."""
from datetime import datetime, timezone

import pytest

from crm_platform.id_guards import matches

NOW = datetime(2026, 12, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("document, guard, expected", [
    ({"version": 2}, {"version": {"$lt": 3}}, True),
    ({"version": 3}, {"version": {"$lt": 3}}, False),
    ({}, {"version": {"$lt": 3}}, False),  # a missing field matches no comparison
    ({"version": "2"}, {"version": {"$lt": 3}}, False),  # nor one of another kind
    ({"version": 2.5}, {"version": {"$gte": 2, "$lte": 3}}, True),
    ({"version": 2}, {"version": 2}, True),
    ({"version": 2}, {"version": 2.0}, True),  # numbers compare across int and float
    ({"flag": 1}, {"flag": True}, False),  # a boolean is no number
    ({}, {"erased": {"$ne": True}}, True),
    ({"erased": False}, {"erased": {"$ne": True}}, True),
    ({"erased": True}, {"erased": {"$ne": True}}, False),
    ({}, {"gone": None}, True),  # null matches a missing field
    ({}, {"gone": {"$ne": None}}, False),
    ({"gone": None}, {"gone": {"$exists": True}}, True),
    ({}, {"gone": {"$exists": False}}, True),
    ({"labels": ["a", "b"]}, {"labels": "b"}, True),  # an array matches an equality on any item
    ({"at": NOW}, {"at": {"$lt": datetime(2027, 1, 1, tzinfo=timezone.utc)}}, True),
    ({"state_version": 4}, {"$or": [{"state_version": {"$lt": 4}}, {"state_version": {"$exists": False}}]}, False),
    ({}, {"$or": [{"state_version": {"$lt": 4}}, {"state_version": {"$exists": False}}]}, True),
    ({"a": 1, "b": 2}, {"$and": [{"a": 1}, {"b": {"$gt": 2}}]}, False),
])
def test_a_guard_is_judged_as_the_server_judges_it(document, guard, expected):
    assert matches(document, guard) is expected


@pytest.mark.parametrize("document, guard", [
    ({"a": 1}, {"a": {"$in": [1]}}), ({"a": 1}, {"a.b": 1}), ({"a": 1}, {"$nor": []}),
    ({"a": 1}, {"a": {"$regex": "x"}}), ({"a": [1, 5]}, {"a": {"$lt": 3}}),  # any item below 3, for MongoDB
    ({"a": 1}, {"a": [1]}), ({"a": 1}, {"a": {"$ne": {"$gt": 1}}}), ({"a": False}, {"a": {"$gt": False}}),
    ({"a": None}, {"a": {"$lte": None}}),
    ({"a": datetime(2026, 1, 1)}, {"a": {"$lt": NOW}}),  # a naive date against an aware one
])
def test_a_guard_it_cannot_judge_is_refused_not_judged_wrong(document, guard):
    with pytest.raises(ValueError):
        matches(document, guard)
