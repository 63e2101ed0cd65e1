"""The follower a service's timeline consumer runs, on the real database: entries of its events, idempotent, and none
for an erased contact, whether erased before the event came or while it was written."""
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from crm_platform.aggregates import DomainEvent
from crm_platform.event_codec import EventCodec
from crm_platform.personal_data import SubjectErased
from crm_platform.timeline import TimelineEntry, TimelineProjection
from crm_platform.timeline_follower import TimelineFollower, record_batch_unless_erased, record_unless_erased

AT = datetime(2026, 5, 4, 10, 30, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ThingShared(DomainEvent):
    aggregate_id_field = "thing_id"
    thing_id: str
    account_id: str
    contact_ids: list


@dataclass(frozen=True)
class ThingRenamed(DomainEvent):
    aggregate_id_field = "thing_id"
    thing_id: str
    account_id: str


def entries_of(event, event_id, at):
    if not isinstance(event, ThingShared):
        return []
    return [(contact_id, TimelineEntry(f"{event_id}:{contact_id}", at, "thing.shared", "thing", event.thing_id))
            for contact_id in event.contact_ids]


CODEC = EventCodec([ThingShared, ThingRenamed])


def shared(*contact_ids, account="acct-1"):
    return CODEC.to_envelope(ThingShared("thing:1", account, list(contact_ids)), "Thing", "thing:1", 1, account)


def follower(projection, erased=lambda account, ids: set(), codec=CODEC):
    return TimelineFollower(projection, codec, entries_of, erased, [ThingShared])


@pytest.fixture
def projection(mongo_db):
    projection = TimelineProjection(mongo_db["timeline"])
    projection.ensure_indexes()
    return projection


def _ids(projection, contact_id, account="acct-1"):
    return [item["id"] for item in projection.page(account, contact_id)[0]]


def test_an_event_makes_its_entries_at_its_own_time_once_however_often_it_comes(projection):
    keeper, envelope = follower(projection), shared("c1", "c2")
    assert keeper.apply(envelope) and keeper.apply(envelope) and keeper.apply(envelope, rebuilding=True)
    assert _ids(projection, "c1") == [f"{envelope.event_id}:c1"]
    assert _ids(projection, "c2") == [f"{envelope.event_id}:c2"]
    [item] = projection.page("acct-1", "c1")[0]
    assert item["at"] == envelope.occurred_at.replace(microsecond=envelope.occurred_at.microsecond // 1000 * 1000)
    assert _ids(projection, "c1", account="acct-2") == []
    assert not keeper.apply(dataclasses.replace(envelope, event_type="ThingForgotten"))  # not the service's


def test_an_event_of_a_class_that_makes_no_entry_is_passed_over_unread(projection):
    class Unreadable:
        knows = CODEC.knows

        @staticmethod
        def from_envelope(envelope):
            raise AssertionError("decoded (its personal fields opened) for nothing")

    renamed = CODEC.to_envelope(ThingRenamed("thing:1", "acct-1"), "Thing", "thing:1", 2, "acct-1")
    assert not follower(projection, codec=Unreadable()).apply(renamed)


def test_an_erased_contact_gets_no_entry_the_others_do(projection):
    assert follower(projection, lambda account, ids: {"c1"} & set(ids)).apply(shared("c1", "c2"))
    assert _ids(projection, "c1") == [] and len(_ids(projection, "c2")) == 1
    assert not follower(projection, lambda account, ids: set(ids)).apply(shared("c1"))


def test_a_contact_erased_while_its_entry_was_written_is_forgotten_again(projection):
    asked = []

    def erased(account, ids):  # not erased when first asked, erased by the time the entry is written
        asked.append(list(ids))
        return set() if len(asked) == 1 else {"c1"}

    projection.record("acct-1", "c1", TimelineEntry("older", AT, "thing.shared", "thing", "thing:0"))
    follower(projection, erased).apply(shared("c1", "c2"))
    assert asked == [["c1", "c2"], ["c1", "c2"]]
    assert _ids(projection, "c1") == [] and len(_ids(projection, "c2")) == 1


def test_an_event_whose_key_is_shredded_makes_no_entry(projection):
    class ShreddedCodec:
        knows = CODEC.knows

        @staticmethod
        def from_envelope(envelope):
            raise SubjectErased("contact:c1")

    assert not follower(projection, codec=ShreddedCodec()).apply(shared("c1"))
    assert _ids(projection, "c1") == []


def test_a_merge_moves_the_merged_contacts_entries_to_the_survivor_once(projection):
    keeper, envelope = follower(projection), shared("merged", "other")
    keeper.apply(envelope)
    assert keeper.move_contact("acct-1", "merged", "survivor") == 1
    assert keeper.move_contact("acct-1", "merged", "survivor") == 0
    assert _ids(projection, "survivor") == [f"{envelope.event_id}:merged"] and _ids(projection, "merged") == []
    assert _ids(projection, "other") == [f"{envelope.event_id}:other"]


def test_a_merge_into_an_erased_survivor_brings_nothing_back_and_forgets_the_merged_entries(projection):
    erased = lambda account, ids: {"survivor"} & set(ids)  # noqa: E731
    follower(projection).apply(shared("merged"))
    assert follower(projection, erased).move_contact("acct-1", "merged", "survivor") == 0
    assert _ids(projection, "survivor") == [] and _ids(projection, "merged") == []


def test_a_survivor_erased_while_the_entries_moved_is_forgotten_again(projection):
    asked = []

    def erased(account, ids):  # not erased when first asked, erased by the time the entries moved
        asked.append(list(ids))
        return set() if len(asked) == 1 else {"survivor"}

    follower(projection).apply(shared("merged"))
    follower(projection, erased).move_contact("acct-1", "merged", "survivor")
    assert asked == [["survivor"], ["survivor"]]
    assert _ids(projection, "survivor") == [] and _ids(projection, "merged") == []


def test_an_event_naming_a_merged_away_contact_after_the_merge_goes_to_the_survivor(projection):
    merges = {"merged": "middle", "middle": "survivor"}  # merged twice: followed to the end by the service

    def survivor(account, contact_id):
        while contact_id in merges:
            contact_id = merges[contact_id]
        return contact_id

    keeper = TimelineFollower(projection, CODEC, entries_of, lambda account, ids: set(), [ThingShared], survivor)
    envelope = shared("merged", "other")
    assert keeper.apply(envelope)
    assert _ids(projection, "survivor") == [f"{envelope.event_id}:merged"] and _ids(projection, "merged") == []
    assert keeper.move_contact("acct-1", "middle", "survivor") == 0  # a merge's move after its late event: no-op


def test_a_contact_merged_away_while_its_entry_was_written_gives_it_to_the_survivor(projection):
    """The review found one order losing an entry: the survivor read (the contact itself), then the merge moving
    the contact's entries, then the write under the merged-away contact, whose timeline nobody reads again."""
    merges = {}

    def survivor(account, contact_id):
        answer = merges.get(contact_id, contact_id)
        merges["merged"] = "survivor"  # the merge lands right after the first read
        return answer

    keeper = TimelineFollower(projection, CODEC, entries_of, lambda account, ids: set(), [ThingShared], survivor)
    envelope = shared("merged")
    assert keeper.apply(envelope)
    assert _ids(projection, "merged") == [] and _ids(projection, "survivor") == [f"{envelope.event_id}:merged"]


def test_a_batch_gives_the_entries_of_a_contact_merged_away_meanwhile_to_its_survivor(projection):
    merges = {"merged": "survivor"}  # merged after the batch read its survivor (itself)
    rows = [("acct-1", "merged", _entry("late")), ("acct-1", "steady", _entry("other"))]
    assert record_batch_unless_erased(projection, lambda account, ids: set(), rows,
                                      survivor=lambda account, contact_id: merges.get(contact_id, contact_id),
                                      merged_meanwhile=[("acct-1", "merged")]) == set()
    assert _ids(projection, "merged") == [] and _ids(projection, "survivor") == ["late"]
    assert _ids(projection, "steady") == ["other"]


def _entry(entry_id):
    return TimelineEntry(entry_id, AT, "thing.shared", "thing", "thing:1")


def test_a_batch_records_its_entries_at_once_but_none_of_an_erased_contact(projection):
    asked = []

    def erased(account, ids):
        asked.append((account, list(ids)))
        return {"c1"} & set(ids)

    rows = [("acct-1", "c1", _entry("e1")), ("acct-1", "c2", _entry("e2")), ("acct-2", "c1", _entry("e3"))]
    assert record_batch_unless_erased(projection, erased, rows) == set()
    assert _ids(projection, "c1") == [] and _ids(projection, "c2") == ["e2"]
    assert _ids(projection, "c1", account="acct-2") == []  # erased is asked per account: c1 is erased in acct-2 too
    assert asked[0] == ("acct-1", ["c1", "c2"]) and asked[1] == ("acct-2", ["c1"])


def test_a_contact_erased_while_its_batch_was_written_is_forgotten_again(projection):
    asked = []

    def erased(account, ids):  # not erased when first asked, erased by the time the batch is written
        asked.append(list(ids))
        return set() if len(asked) == 1 else {"c1"} & set(ids)

    rows = [("acct-1", "c1", _entry("e1")), ("acct-1", "c2", _entry("e2")), ("acct-1", "c1", _entry("e3"))]
    assert record_batch_unless_erased(projection, erased, rows) == set()
    assert asked == [["c1", "c2"], ["c1", "c2"]]
    assert _ids(projection, "c1") == [] and _ids(projection, "c2") == ["e2"]


def test_contacts_known_unerased_are_asked_after_the_write_only_and_still_forgotten_if_erased_meanwhile(projection):
    asked = []

    def erased(account, ids):  # c1 erased by the time it is asked: only after the write, as it is known unerased
        asked.append(list(ids))
        return {"c1"} & set(ids)

    rows = [("acct-1", "c1", _entry("e1")), ("acct-1", "c2", _entry("e2"))]
    assert record_batch_unless_erased(projection, erased, rows, unerased=[("acct-1", "c1")]) == set()
    assert asked == [["c2"], ["c1", "c2"]]
    assert _ids(projection, "c1") == [] and _ids(projection, "c2") == ["e2"]
    asked.clear()
    record_unless_erased(projection, erased, "acct-1", [("c1", _entry("e3"))], unerased=["c1"])
    assert asked == [["c1"]] and _ids(projection, "c1") == []
