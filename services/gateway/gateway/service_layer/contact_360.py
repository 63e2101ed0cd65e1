"""The aggregated contact read: the contact from its service, and each section from the service that owns it, asked
in parallel, each within the section deadline (issue 14, item 1).

The contact decides: its service's answer other than 200 (a 404 for another account's or an erased contact) is
the answer of the whole read, and no section is shown; its service down is the read's 503, as for a proxied read,
and its service silent for the contact deadline (its own bound, CONTACT_READ_DEADLINE_S) the read's 504.
A section that did not answer within the deadline is `timeout`, one whose service is down, failed or refused it is
`unavailable`; the others are `ok` with the first page of the service's list and the cursor of the next. Read `as_of`
a moment, the contact, its labels and notes are as they were then; a section whose service cannot show the past is
`as_of_unsupported`, not asked.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlencode

import requests

from crm_platform.errors import DependencyUnavailable

from gateway.adapters.upstream import UpstreamTimeout
from gateway.domain.contact_sections import Section, SectionStatus, can_be_read, label_names

log = logging.getLogger(__name__)
CONTACTS_SERVICE = "contacts"


class Reader(Protocol):
    def get(self, service: str, path: str, params: list[tuple[str, str]],
            timeout_s: float | None = None) -> requests.Response: ...


@dataclass(frozen=True)
class ContactRead:
    contact_answer: requests.Response  # the contacts service's answer to GET /v1/contacts/{id}
    sections: dict[str, dict] | None  # name -> section; None unless the contact answered 200


def read_contact_360(reader: Reader, pool: Executor, contact_id: str, sections: tuple[Section, ...],
                     deadline_s: float, contact_deadline_s: float, as_of: str | None = None) -> ContactRead:
    """The contact and the sections, read in parallel (as they were at `as_of`, an RFC 3339 date-time, if given);
    the sections' answers waited for `deadline_s` from the start, the contact's for `contact_deadline_s`
    (UpstreamTimeout if it has not answered by then: the read answers 504, never later; DependencyUnavailable if
    its service is down). A section that cannot show the past is not asked `as_of` a moment."""
    started = time.monotonic()
    contact_params = [] if as_of is None else [("as_of", as_of)]
    contact_future = pool.submit(reader.get, CONTACTS_SERVICE, f"/v1/contacts/{contact_id}", contact_params,
                                 contact_deadline_s)
    futures = {section: pool.submit(reader.get, section.service, *section.request(contact_id, as_of=as_of),
                                    deadline_s)
               for section in sections if can_be_read(section, as_of)}
    try:
        contact_answer = contact_future.result(timeout=max(0.0, started + contact_deadline_s - time.monotonic()))
    except TimeoutError:  # still queued behind other reads' sections, or its service slow
        _abandon([contact_future, *futures.values()])
        raise UpstreamTimeout(f"the {CONTACTS_SERVICE} service did not answer within {contact_deadline_s:g} s; "
                              "retry later") from None
    except BaseException:
        _abandon(futures.values())
        raise
    if contact_answer.status_code != 200:
        _abandon(futures.values())
        return ContactRead(contact_answer, None)
    contact = contact_answer.json()
    wait(futures.values(), timeout=max(0.0, started + deadline_s - time.monotonic()))
    read = {section.name: _section(section, future, contact, contact_id, as_of) for section, future in futures.items()}
    return ContactRead(contact_answer, {section.name: read.get(section.name, UNSUPPORTED) for section in sections})


UNSUPPORTED = {"status": SectionStatus.AS_OF_UNSUPPORTED.value}


def _section(section: Section, future: Future, contact: dict, contact_id: str, as_of: str | None) -> dict:
    if not future.done():
        future.cancel()  # not started yet (a busy pool): it never will be; started, its own timeout ends it
        return {"status": SectionStatus.TIMEOUT.value}
    try:
        answer = future.result()
    except UpstreamTimeout:
        return {"status": SectionStatus.TIMEOUT.value}
    except DependencyUnavailable:
        return {"status": SectionStatus.UNAVAILABLE.value}
    try:
        page = answer.json() if answer.status_code == 200 else None
    except ValueError:
        page = None
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        log.warning("a section of a contact read got no page", extra={"section": section.name,
                                                                      "upstream_status": answer.status_code})
        return {"status": SectionStatus.UNAVAILABLE.value}
    if section.name == "labels":
        return {"status": SectionStatus.OK.value, "items": label_names(contact.get("labels") or [], page["items"])}
    cursor = page.get("next_cursor")
    return {"status": SectionStatus.OK.value, "items": page["items"], "next_cursor": cursor,
            "next": _next_link(section, contact_id, cursor, as_of) if cursor else None}


def _next_link(section: Section, contact_id: str, cursor: str, as_of: str | None) -> str:
    """The URL of the section's next page on this API (the gateway relays the service's own list)."""
    path, params = section.request(contact_id, as_of=as_of)
    return f"{quote(path, safe='/')}?{urlencode([*params, ('cursor', cursor)])}"


def _abandon(futures) -> None:
    for future in futures:
        future.cancel()
