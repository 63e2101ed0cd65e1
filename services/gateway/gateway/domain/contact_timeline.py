"""A contact's merged timeline (issue 14, item 1): the pages each service serves of its own entries about the
contact, merged into one page in the one order they all keep (crm_platform.timeline: `at` then `id`, newest first).

Stateless paging: the gateway's cursor is the kernel's position of the last entry it gave
(`timeline_cursor(at, id)`). Every service takes that position as it is and answers its entries strictly after it,
so the next page asks each service again from there; no per-service cursor is kept anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crm_platform.errors import InvalidInput
from crm_platform.pagination import decode_cursor
from crm_platform.timeline import TIMELINE_SORT, entry_at, timeline_cursor, utc_millis

from gateway.domain.contact_sections import SectionStatus

SOURCE_PATH = "/v1/contact-timeline/{contact_id}"  # crm_platform.timeline_api's route, in every one of them
CURSOR = "cursor"
MAX_CURSOR_LENGTH = 1000  # what crm_platform.timeline's query takes; a position is well under 200


@dataclass(frozen=True)
class SourcePage:
    """One service's answer: its entries after the position, newest first, and whether it has more."""

    items: list[dict]
    has_more: bool


def timeline_sources(keeping: tuple[str, ...], served_by: frozenset[str] | set[str]) -> tuple[str, ...]:
    """The services asked for a contact's timeline: those that keep one (the registry's `timeline = true`) that
    this gateway routes to."""
    return tuple(service for service in keeping if service in served_by)


def checked_position(cursor: str | None) -> str | None:
    """`cursor` if it is a position this API made (None: the first page); InvalidInput naming `cursor` otherwise,
    also for one that decodes but that no service could look up (an id that is no UTF-8, a date out of range)."""
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidInput("cursor is not one this API returned", {CURSOR: [f"at most {MAX_CURSOR_LENGTH} characters"]})
    at, entry_id = decode_cursor(cursor, TIMELINE_SORT, dated=True)  # InvalidInput naming `cursor`
    try:
        entry_id.encode("utf-8")
        utc_millis(at)
    except (UnicodeError, OverflowError):
        raise InvalidInput("cursor is not one this API returned for this sort", {CURSOR: ["invalid cursor"]}) from None
    return cursor


def source_page(answer: object) -> SourcePage:
    """A service's timeline page, checked; ValueError if it is not one (then the service counts as unavailable)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
        raise ValueError("not a timeline page")
    for item in answer["items"]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("at"), str):
            raise ValueError("not a timeline entry")
        try:
            utc_millis(entry_at(item["at"]))
        except (InvalidInput, OverflowError):  # OverflowError: a moment that is no UTC date (0001-01-01T00:00+01:00)
            raise ValueError("a timeline entry's `at` is no date-time") from None
    return SourcePage(answer["items"], answer.get("next_cursor") is not None)


def _order_key(item: dict) -> tuple[datetime, str]:
    return utc_millis(entry_at(item["at"])), item["id"]


def merge_pages(pages: list[SourcePage], limit: int, every_source_answered: bool = True
                ) -> tuple[list[dict], str | None]:
    """The first `limit` entries of the pages together, newest first (ties by id, descending), and the position of
    the last one given when any source has entries after it, or when a source did not answer (it may have some:
    the timeline does not end on a page a source was missing from); else None, the timeline ends here.

    Each page holds a source's first `limit` entries after the same position, so the first `limit` of the merge are
    the timeline's; an entry served by two sources (it should not be) is given once. A source that did not answer
    may hold entries newer than the position returned: those are not on any later page (a page asks every source
    for what comes after its cursor), only on this page read again."""
    merged: dict[str, dict] = {}
    for page in pages:
        for item in page.items:
            merged.setdefault(item["id"], item)
    ordered = sorted(merged.values(), key=_order_key, reverse=True)
    taken = ordered[:limit]
    more = len(ordered) > limit or any(page.has_more for page in pages) or not every_source_answered
    if not taken or not more:
        return taken, None
    at, entry_id = _order_key(taken[-1])
    return taken, timeline_cursor(at, entry_id)


def merged_status(sources: dict[str, str]) -> str:
    """The 360 read's `timeline` section status: ok when a source answered (the others are named in `sources`),
    else timeout when one did not answer in time, else unavailable."""
    statuses = set(sources.values())
    if not statuses or SectionStatus.OK.value in statuses:
        return SectionStatus.OK.value
    return SectionStatus.TIMEOUT.value if SectionStatus.TIMEOUT.value in statuses else SectionStatus.UNAVAILABLE.value
