"""A contact's merged timeline read (issue 14, item 1): every service that keeps a timeline asked in parallel for
its page after the same position, within the section deadline of the aggregated contact read, and the pages merged
(gateway.domain.contact_timeline).

A source that did not answer in time is `timeout`, one that is down, failed or answered no page is `unavailable`;
either is left out of this page (the client may miss its entries on it). The contact decides, as for the 360 read:
the contacts service's answer other than 200 is the answer, and no source is waited for.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import requests

from crm_platform.errors import DependencyUnavailable

from gateway.adapters.upstream import UpstreamTimeout
from gateway.domain.contact_sections import SectionStatus
from gateway.domain.contact_timeline import SOURCE_PATH, SourcePage, merge_pages, source_page
from gateway.service_layer.contact_360 import CONTACTS_SERVICE, Reader

log = logging.getLogger(__name__)
TIMELINE_ROUTE = "/v1/contacts/{contact_id}/timeline"  # the gateway's own, published route


@dataclass(frozen=True)
class MergedTimeline:
    items: list[dict]
    next_cursor: str | None
    sources: dict[str, str]  # service -> SectionStatus value
    next: str | None  # the URL of the next page on this API

    def as_page(self) -> dict:
        return {"items": self.items, "next_cursor": self.next_cursor, "next": self.next, "sources": self.sources}


class PendingTimeline:
    """The sources' pages asked for, not yet merged: `merged` waits for them until the deadline, `abandon` does not."""

    def __init__(self, reader: Reader, pool: Executor, sources: tuple[str, ...], contact_id: str, limit: int,
                 cursor: str | None, deadline_s: float) -> None:
        self._contact_id, self._limit = contact_id, limit
        self._until = time.monotonic() + deadline_s
        params = [("limit", str(limit))] + ([("cursor", cursor)] if cursor else [])
        path = SOURCE_PATH.format(contact_id=contact_id)
        self._futures = {source: pool.submit(reader.get, source, path, params, deadline_s) for source in sources}

    def merged(self) -> MergedTimeline:
        wait(self._futures.values(), timeout=max(0.0, self._until - time.monotonic()))
        pages: list[SourcePage] = []
        statuses = {}
        for source, future in self._futures.items():
            statuses[source], page = _answer(source, future)
            if page is not None:
                pages.append(page)
        items, next_cursor = merge_pages(pages, self._limit, len(pages) == len(self._futures))
        return MergedTimeline(items, next_cursor, statuses, self._next_link(next_cursor) if next_cursor else None)

    def abandon(self) -> None:
        for future in self._futures.values():
            future.cancel()

    def _next_link(self, cursor: str) -> str:
        path = quote(TIMELINE_ROUTE.format(contact_id=self._contact_id), safe="/")
        return f"{path}?{urlencode([('limit', str(self._limit)), ('cursor', cursor)])}"


@dataclass(frozen=True)
class TimelineRead:
    contact_answer: requests.Response  # the contacts service's answer to GET /v1/contacts/{id}
    timeline: MergedTimeline | None  # None unless the contact answered 200


def read_timeline(reader: Reader, pool: Executor, sources: tuple[str, ...], contact_id: str, limit: int,
                  cursor: str | None, deadline_s: float, contact_deadline_s: float) -> TimelineRead:
    """The contact and the sources' pages, read in parallel; the pages waited for `deadline_s` from the start, the
    contact's for `contact_deadline_s`, as the 360 read waits for it (UpstreamTimeout past it: a 504, never later;
    DependencyUnavailable if its service is down)."""
    started = time.monotonic()
    contact_future = pool.submit(reader.get, CONTACTS_SERVICE, f"/v1/contacts/{contact_id}", [], contact_deadline_s)
    pending = PendingTimeline(reader, pool, sources, contact_id, limit, cursor, deadline_s)
    try:
        contact_answer = contact_future.result(timeout=max(0.0, started + contact_deadline_s - time.monotonic()))
    except TimeoutError:  # still queued behind other reads, or its service slow
        contact_future.cancel()
        pending.abandon()
        raise UpstreamTimeout(f"the {CONTACTS_SERVICE} service did not answer within {contact_deadline_s:g} s; "
                              "retry later") from None
    except BaseException:
        pending.abandon()
        raise
    if contact_answer.status_code != 200:
        pending.abandon()
        return TimelineRead(contact_answer, None)
    return TimelineRead(contact_answer, pending.merged())


def _answer(source: str, future: Future) -> tuple[str, SourcePage | None]:
    if not future.done():
        future.cancel()  # not started yet (a busy pool): it never will be; started, its own timeout ends it
        return SectionStatus.TIMEOUT.value, None
    try:
        answer = future.result()
    except UpstreamTimeout:
        return SectionStatus.TIMEOUT.value, None
    except DependencyUnavailable:
        return SectionStatus.UNAVAILABLE.value, None
    try:
        return SectionStatus.OK.value, source_page(answer.json() if answer.status_code == 200 else None)
    except ValueError:
        log.warning("a timeline source answered no page", extra={"source": source,
                                                                 "upstream_status": answer.status_code})
        return SectionStatus.UNAVAILABLE.value, None
