"""The merged timeline's pure parts (issue 14, item 1): sources' pages merged in the one order, the position of the
last entry given as the next cursor, and only positions this API made taken back."""
import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from crm_platform.errors import InvalidInput
from crm_platform.pagination import decode_cursor, encode_cursor
from crm_platform.timeline import timeline_cursor

from gateway.domain.contact_timeline import (
    SourcePage, checked_position, merge_pages, merged_status, source_page, timeline_sources,
)

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)


def entry(entry_id: str, seconds: float) -> dict:
    return {"id": entry_id, "at": (T0 + timedelta(seconds=seconds)).isoformat(), "kind": "x.y",
            "subject": {"type": "x", "id": entry_id}, "summary": {}}


def key(item: dict):
    return datetime.fromisoformat(item["at"]), item["id"]


def test_pages_merge_newest_first_and_ties_of_one_millisecond_by_id_descending():
    contacts = SourcePage([entry("c2", 3), entry("b", 1), entry("c1", 0)], False)
    billing = SourcePage([entry("d", 1), entry("a", 1)], False)
    items, next_cursor = merge_pages([contacts, billing], 10)
    assert [item["id"] for item in items] == ["c2", "d", "b", "a", "c1"]
    assert next_cursor is None


def test_times_written_differently_are_compared_as_instants_to_the_millisecond():
    later = {**entry("a", 0), "at": "2026-12-03T11:00:00.0004+01:00"}  # 10:00:00.000 UTC, under a millisecond
    items, _ = merge_pages([SourcePage([later], False), SourcePage([entry("b", 0)], False)], 10)
    assert [item["id"] for item in items] == ["b", "a"]


def test_the_next_cursor_is_the_position_of_the_last_entry_given_when_more_are_left():
    contacts = SourcePage([entry("c3", 5), entry("c2", 4)], False)
    billing = SourcePage([entry("b1", 6), entry("b0", 1)], False)
    items, next_cursor = merge_pages([contacts, billing], 2)
    assert [item["id"] for item in items] == ["b1", "c3"]
    assert decode_cursor(next_cursor, "-at", dated=True) == (datetime(2026, 12, 3, 10, 0, 5, tzinfo=timezone.utc), "c3")
    assert next_cursor == timeline_cursor(T0 + timedelta(seconds=5), "c3")


def test_a_source_with_more_keeps_the_timeline_going_even_when_its_page_was_all_given():
    items, next_cursor = merge_pages([SourcePage([entry("a", 2), entry("b", 1)], True), SourcePage([], False)], 2)
    assert [item["id"] for item in items] == ["a", "b"] and next_cursor == timeline_cursor(T0 + timedelta(seconds=1), "b")
    assert merge_pages([SourcePage([entry("a", 2)], False)], 2)[1] is None
    assert merge_pages([SourcePage([], False), SourcePage([], False)], 2) == ([], None)


def test_a_page_a_source_was_missing_from_never_ends_the_timeline():
    """A source that did not answer may hold entries after the last one given: the timeline goes on (the review
    found it ending with billing down and contacts' few entries all given)."""
    items, next_cursor = merge_pages([SourcePage([entry("a", 2)], False)], 2, every_source_answered=False)
    assert [item["id"] for item in items] == ["a"] and next_cursor == timeline_cursor(T0 + timedelta(seconds=2), "a")
    assert merge_pages([SourcePage([], False)], 2, every_source_answered=False) == ([], None)


def test_an_entry_two_sources_serve_is_given_once():
    items, _ = merge_pages([SourcePage([entry("a", 1)], False), SourcePage([entry("a", 1)], False)], 10)
    assert [item["id"] for item in items] == ["a"]


def serve(entries: list[dict], limit: int, cursor: str | None) -> SourcePage:
    """What a service answers (crm_platform.timeline's keyset page), on a list instead of a collection."""
    ordered = sorted(entries, key=key, reverse=True)
    if cursor:
        at, last_id = decode_cursor(cursor, "-at", dated=True)
        at = at.replace(tzinfo=timezone.utc)
        ordered = [item for item in ordered if key(item) < (at, last_id)]
    return SourcePage(ordered[:limit], len(ordered) > limit)


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_through_uneven_sources_gives_every_entry_once_in_order(limit):
    sources = [[entry(f"c{i}", i * 3 % 11) for i in range(9)],  # ties across and within sources
               [entry(f"b{i}", i) for i in range(3)],
               []]
    every = sorted([item for source in sources for item in source], key=key, reverse=True)
    given, cursor = [], None
    for _ in range(50):
        items, cursor = merge_pages([serve(source, limit, cursor) for source in sources], limit)
        given += items
        assert len(items) <= limit
        if cursor is None:
            break
    assert [item["id"] for item in given] == [item["id"] for item in every]


@pytest.mark.parametrize("cursor", [
    "garbage", "", "\x00", "a\x00b", "\ud800", "x" * 10_000,
    encode_cursor("-created_at", "2026-12-03T10:00:00", "n1"),  # another list's cursor
    encode_cursor("-at", "not a date", "n1"),
    encode_cursor("-at", 12, "n1"),
    base64.urlsafe_b64encode(json.dumps(["-at", "2026-12-03T10:00:00", "\ud800"]).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps(["-at", "0001-01-01T00:00:00+05:00", "n1"]).encode()).decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_a_cursor_this_api_did_not_make_is_refused_naming_cursor(cursor):
    if cursor == "":
        assert checked_position(None) is None
        cursor = "="
    with pytest.raises(InvalidInput) as refused:
        checked_position(cursor)
    assert list(refused.value.errors) == ["cursor"]


def test_a_position_made_from_an_entry_is_taken_as_it_is():
    cursor = timeline_cursor(T0, "e1")
    assert checked_position(cursor) == cursor


@pytest.mark.parametrize("answer", [None, [], {"items": None}, {"items": ["x"]}, {"items": [{"id": 1, "at": "x"}]},
                                    {"items": [{"id": "a", "at": "yesterday"}]}, {"items": [{"id": "a"}]},
                                    {"items": [{"id": "a", "at": "0001-01-01T00:00:00+01:00"}]}])
def test_what_is_no_timeline_page_is_told(answer):
    with pytest.raises(ValueError):
        source_page(answer)


def test_a_page_says_whether_its_source_has_more():
    assert source_page({"items": [entry("a", 0)], "next_cursor": "n"}) == SourcePage([entry("a", 0)], True)
    assert source_page({"items": [], "next_cursor": None}).has_more is False


def test_the_sources_are_those_routed_to_and_the_section_is_ok_when_one_answered():
    keeping = ("contacts", "billing", "workflows")
    assert timeline_sources(keeping, frozenset({"workflows", "contacts", "privacy"})) == ("contacts", "workflows")
    assert merged_status({"contacts": "ok", "billing": "timeout"}) == "ok"
    assert merged_status({"contacts": "unavailable", "billing": "timeout"}) == "timeout"
    assert merged_status({"contacts": "unavailable"}) == "unavailable"
