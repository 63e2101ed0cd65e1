"""A service's timeline projection on the real MongoDB server: one contact's entries, newest first, resumable from
any entry's position as the gateway makes it, idempotent, and forgotten with the contact."""
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.errors import InvalidInput
from crm_platform.timeline import TimelineEntry, TimelineProjection, entry_at, timeline_cursor

START = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


def _entries(count: int) -> list[TimelineEntry]:
    # three entries per millisecond-tick, microseconds that BSON drops: ties broken by id
    return [TimelineEntry(f"e{i:02}", START + timedelta(milliseconds=i // 3, microseconds=i % 3 * 7),
                          "contact.updated", "contact", "c1", {"fields": ["city"]}) for i in range(count)]


@pytest.fixture
def timeline(mongo_db):
    projection = TimelineProjection(mongo_db["timeline"])
    projection.ensure_indexes()
    return projection


def test_pages_walk_one_contacts_entries_newest_first_and_only_theirs(timeline):
    entries = _entries(10)
    timeline.record_many("a1", "c1", entries)
    timeline.record("a1", "c2", TimelineEntry("other-contact", START, "contact.created", "contact", "c2"))
    timeline.record("a2", "c1", TimelineEntry("other-account", START, "contact.created", "contact", "c1"))
    seen, cursor = [], None
    while True:
        page, cursor = timeline.page("a1", "c1", limit=4, cursor=cursor)
        seen.extend(page)
        if cursor is None:
            break
    assert [item["id"] for item in seen] == [f"e{i:02}" for i in reversed(range(10))]
    assert seen[0]["at"] == START + timedelta(milliseconds=3) and seen[0]["at"].tzinfo is not None
    assert seen[0]["subject"] == {"type": "contact", "id": "c1"} and seen[0]["summary"] == {"fields": ["city"]}


def test_a_position_made_from_a_served_entry_resumes_strictly_after_it(timeline):
    timeline.record_many("a1", "c1", _entries(9))
    first, _ = timeline.page("a1", "c1", limit=5)
    served = first[4]  # e04: shares its millisecond with e03 and e05
    as_json = served["at"].isoformat().replace("+00:00", "Z")
    rest, cursor = timeline.page("a1", "c1", limit=10, cursor=timeline_cursor(entry_at(as_json), served["id"]))
    assert [item["id"] for item in rest] == ["e03", "e02", "e01", "e00"] and cursor is None


def test_recording_an_entry_again_leaves_one_document(timeline):
    entry = _entries(1)[0]
    timeline.record("a1", "c1", entry)
    timeline.record("a1", "c1", entry)
    assert timeline.collection.count_documents({}) == 1


def test_forgetting_a_contact_deletes_its_entries_and_no_others(timeline):
    timeline.record_many("a1", "c1", _entries(3))
    timeline.record("a1", "c2", TimelineEntry("kept", START, "contact.created", "contact", "c2"))
    assert timeline.forget_contact("a1", "c1") == 3
    assert [doc["_id"] for doc in timeline.collection.find()] == ["kept"]


def test_an_entry_time_that_is_not_a_date_time_is_refused():
    with pytest.raises(InvalidInput):
        entry_at("yesterday")
    assert entry_at("2026-01-01T09:00:00Z") == START


def test_a_batch_of_entries_is_recorded_at_once_and_again_changes_nothing(timeline):
    entries = _entries(6)
    rows = [("a1", "c1", entry) for entry in entries[:4]] + [("a1", "c2", entry) for entry in entries[4:]]
    assert timeline.record_batch(rows) == set()
    assert timeline.record_batch(rows[:3]) == set()  # re-delivered: there already, the same
    assert [item["id"] for item in timeline.page("a1", "c1", limit=10)[0]] == ["e03", "e02", "e01", "e00"]
    assert [item["id"] for item in timeline.page("a1", "c2", limit=10)[0]] == ["e05", "e04"]
    assert timeline.collection.count_documents({}) == 6


def test_moving_a_contact_gives_its_entries_to_the_other_once_and_no_others(timeline):
    timeline.record_many("a1", "merged", _entries(3))
    timeline.record("a1", "survivor", TimelineEntry("own", START, "contact.created", "contact", "survivor"))
    timeline.record("a2", "merged", TimelineEntry("other-account", START, "contact.created", "contact", "merged"))
    assert timeline.move_contact("a1", "merged", "survivor") == 3
    assert timeline.move_contact("a1", "merged", "survivor") == 0  # again: nothing left to move
    # one millisecond: by id
    assert [item["id"] for item in timeline.page("a1", "survivor")[0]] == ["own", "e02", "e01", "e00"]
    assert timeline.page("a1", "merged")[0] == []
    assert [item["id"] for item in timeline.page("a2", "merged")[0]] == ["other-account"]
