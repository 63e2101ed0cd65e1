"""A contact's last activity moves forward only, on the real database; also as on a server that would scan for
the compare-and-set's guard (FerretDB over SQLite: crm_platform.id_guards)."""
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform import id_guards

from contacts.adapters.activity import as_stored, touch_last_activity

MONDAY = datetime(2026, 12, 7, 9, 30, 0, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize("scanning", [False, True], ids=["guard in the statement", "guard read by _id"])
def test_the_last_activity_moves_forward_never_back(mongo_db, monkeypatch, scanning):
    if scanning:
        monkeypatch.setattr(id_guards, "server_scans_for", lambda collection, sample: True)
    contacts = Recorded(mongo_db["contacts"])
    contacts.insert_one({"_id": "contact:1", "version": 1})  # no activity yet
    touch_last_activity(contacts, "contact:1", MONDAY)
    touch_last_activity(contacts, "contact:1", MONDAY - timedelta(days=1))  # older: kept as it was
    assert contacts.find_one({"_id": "contact:1"})["last_activity_at"] == as_stored(MONDAY)
    touch_last_activity(contacts, "contact:1", MONDAY + timedelta(hours=1))
    assert contacts.find_one({"_id": "contact:1"})["last_activity_at"] == as_stored(MONDAY + timedelta(hours=1))
    touch_last_activity(contacts, "contact:missing", MONDAY)  # not projected yet: nothing written
    assert contacts.find_one({"_id": "contact:missing"}) is None
    guarded = [where for where in contacts.updates if set(where) != {"_id"}]
    assert (guarded == []) if scanning else (len(guarded) == len(contacts.updates) == 2)


class Recorded:
    """The collection, with the filter of each update sent through it."""

    def __init__(self, collection) -> None:
        self._collection = collection
        self.updates: list[dict] = []

    def update_one(self, where: dict, update: dict):
        self.updates.append(where)
        return self._collection.update_one(where, update)

    def __getattr__(self, name: str):
        return getattr(self._collection, name)
