"""GET /v1/contacts/{id}/timeline: what every service did about a contact, merged newest first and cursor-paginated
(gateway.service_layer.contact_timeline; docs/api.md, "The contact's timeline"); and the `timeline` section of the
360 read, its first page.

Counted once by the rate limits, whatever the number of services asked; each service scopes its entries to the
caller's account, and none is shown unless the contacts service shows the contact.
"""
from __future__ import annotations

from flask import Blueprint, Response, request
from marshmallow import Schema, fields, validate

from crm_platform import request_context
from crm_platform.errors import NotFound
from crm_platform.openapi import operation
from crm_platform.timeline import DEFAULT_TIMELINE_PAGE, TimelineEntrySchema, TimelineQuerySchema
from crm_platform.web import current_container

from gateway import config
from gateway.adapters.upstream import UpstreamFailed
from gateway.adapters.upstream_reads import UpstreamReader
from gateway.domain.contact_sections import SectionStatus
from gateway.domain.contact_timeline import checked_position, merged_status, timeline_sources
from gateway.entrypoints import auth, rate_limiting
from gateway.entrypoints.relaying import read_whole
from gateway.service_layer.contact_360 import CONTACTS_SERVICE
from gateway.service_layer.contact_timeline import MergedTimeline, PendingTimeline, read_timeline

RESOURCE = "contacts"
SOURCE_STATUS = ("ok; timeout: the service did not answer within the section deadline; unavailable: it is down or "
                 "failed. A source that is not ok is left out of this page: its entries on it may be missed")

blueprint = Blueprint("contact_timeline", __name__)

SOURCE_STATUSES = [s.value for s in SectionStatus if s is not SectionStatus.AS_OF_UNSUPPORTED]  # a source is asked
TimelineSourcesSchema = Schema.from_dict(
    {name: fields.String(validate=validate.OneOf(SOURCE_STATUSES), metadata={
        "description": SOURCE_STATUS}) for name in config.TIMELINE_SERVICES}, name="TimelineSourcesSchema")


class ContactTimelineSchema(Schema):
    items = fields.List(fields.Nested(TimelineEntrySchema), required=True, metadata={
        "description": "the entries, newest first (`at`, then `id`, descending)"})
    next_cursor = fields.String(required=True, allow_none=True, metadata={
        "description": "the cursor of the next page, or null at the end of the timeline"})
    next = fields.String(required=True, allow_none=True, metadata={"description": "the URL of the next page, if any"})
    sources = fields.Nested(TimelineSourcesSchema, required=True, metadata={
        "description": "how each service that keeps a timeline answered, for those this API routes to"})


@blueprint.get("/v1/contacts/<contact_id>/timeline")
@operation("A contact's timeline: what was done about it in contacts (changes, labels, notes, messages, files), "
           "billing and workflows, merged newest first and cursor-paginated (`limit` 1 to 100, 20 by default). "
           "Every service is asked within the section deadline: one that is slow or down is reported in `sources` "
           "as `timeout` or `unavailable` and left out of that page: its entries newer than `next_cursor` are not "
           "on any later page, so read a page whose `sources` are not all `ok` again (same cursor) for them; such a "
           "page always has a `next_cursor` when it has entries. The contact's own read is bounded by "
           "CONTACT_READ_DEADLINE_S (504). Entries name ids, fields and amounts, never personal data",
           tags=[RESOURCE], query_schema=TimelineQuerySchema, responses={200: ContactTimelineSchema},
           problems=(404, 422, 502, 503, 504), operation_id="getContactTimeline")
def get_contact_timeline(contact_id: str) -> Response | tuple:
    container = current_container()
    caller = rate_limiting.admitted_caller(container)
    auth.check_scope(caller, RESOURCE)
    query = TimelineQuerySchema().load(request.args.to_dict())  # limit, cursor: 422 naming them; others named too
    cursor = checked_position(query["cursor"])
    if contact_id in (".", ".."):
        raise NotFound(f"no resource /v1/{RESOURCE}/{contact_id}; see /docs for what this API offers")
    settings = container.settings
    read = read_timeline(caller_reader(container, caller), container.section_pool, _sources(container), contact_id,
                         query["limit"], cursor, settings["CONTACT_SECTION_DEADLINE_S"],
                         settings["CONTACT_READ_DEADLINE_S"])
    if read.timeline is None:
        answer = read.contact_answer
        if answer.status_code >= 500 and "problem+json" not in answer.headers.get("Content-Type", ""):
            raise UpstreamFailed(f"the {CONTACTS_SERVICE} service failed ({answer.status_code}); retry later")
        return read_whole(answer)[0]
    return read.timeline.as_page()


def caller_reader(container, caller) -> UpstreamReader:
    """Reads of the services on the caller's behalf, scoped to its account as a proxied request is."""
    trace = request_context.current()
    return UpstreamReader(container.upstream_client, container.upstreams, {
        "X-Account-Id": caller.account_id, "X-Actor": f"api-key:{caller.key_id}",
        "X-Request-Id": trace.request_id, "X-Correlation-Id": trace.correlation_id})


def timeline_section_asked(reader: UpstreamReader, contact_id: str) -> PendingTimeline:
    """The first page of the timeline, asked for the 360 read's `timeline` section (read_contact_360 runs meanwhile)."""
    container = current_container()
    return PendingTimeline(reader, container.section_pool, _sources(container),
                           contact_id, DEFAULT_TIMELINE_PAGE, None,
                           container.settings["CONTACT_SECTION_DEADLINE_S"])


def timeline_section(merged: MergedTimeline) -> dict:
    """The 360 read's `timeline` section: ok when a source answered, with the page and how each source answered."""
    return {"status": merged_status(merged.sources), **merged.as_page()}


def _sources(container) -> tuple[str, ...]:
    return timeline_sources(container.timeline_services, frozenset(container.upstreams))
