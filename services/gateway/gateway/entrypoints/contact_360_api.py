"""GET /v1/contacts/{id}/360 and GET /v1/contacts/{id}?include=...: a contact with what the other services hold
about it, read in parallel (gateway.service_layer.contact_360; docs/api.md, "The whole contact").

Counted once by the rate limits, whatever the number of sections; each service scopes its part to the caller's
account (the headers of a proxied request), none is shown unless the contacts service shows the contact.
"""
from __future__ import annotations

from flask import Blueprint, Response, request
from marshmallow import Schema, fields, validate

from crm_platform import request_context
from crm_platform.errors import NotFound
from crm_platform.http_schemas import Rfc3339DateTime, StrictSchema
from crm_platform.openapi import operation
from crm_platform.web import current_container

from gateway.adapters.upstream import UpstreamFailed
from gateway.adapters.upstream_reads import UpstreamReader
from gateway.domain.contact_sections import (
    INCLUDE, MAX_INCLUDE_LENGTH, SECTION_NAMES, TIMELINE, SectionStatus, requested_sections, timeline_requested,
)
from gateway.entrypoints import auth, contact_timeline_api, rate_limiting
from gateway.entrypoints.relaying import read_whole
from gateway.service_layer.contact_360 import CONTACTS_SERVICE, read_contact_360

RESOURCE = "contacts"

blueprint = Blueprint("contact_360", __name__)


class Contact360QuerySchema(StrictSchema):
    """Every parameter of the aggregated read: any other is refused naming it (422), on /360 and with ?include=."""

    include = fields.String(validate=validate.Length(max=MAX_INCLUDE_LENGTH), metadata={
        "description": f"the sections to read, comma-separated, of {', '.join(SECTION_NAMES)} (default: all)"})
    as_of = Rfc3339DateTime(load_default=None, metadata={"description": (
        "a past moment, an RFC 3339 date-time with its offset: the contact, its labels (and their names) and its "
        "notes as they were then, replayed by the contacts service from its events (a moment still to come: as "
        "they are now); the other sections are `as_of_unsupported`. An erased person is not found at any moment")})


class ContactSectionSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in SectionStatus]), metadata={
        "description": "ok; timeout: its service did not answer within the section deadline; unavailable: its "
                       "service is down or failed; as_of_unsupported: read with `as_of`, and its service cannot "
                       "show the past (it was not asked)"})
    items = fields.List(fields.Dict(), metadata={
        "description": "when ok: the first page of the service's list, as that list gives its items (labels: "
                       "key and name)"})
    next_cursor = fields.String(allow_none=True, metadata={"description": "the cursor of the next page, if any"})
    next = fields.String(allow_none=True, metadata={
        "description": "the URL of the next page on this API (the service's own list), if any"})
    sources = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "the timeline's only: how each service that keeps a timeline answered (ok, timeout, "
                       "unavailable; one not ok is left out of the page), as GET /v1/contacts/{contact_id}/timeline"})


ContactSectionsSchema = Schema.from_dict(
    {name: fields.Nested(ContactSectionSchema) for name in SECTION_NAMES}, name="ContactSectionsSchema")


class Contact360Schema(Schema):
    contact = fields.Dict(required=True, metadata={"description": "the contact, as GET /v1/contacts/{contact_id} "
                                                                  "answers it (with `as_of`, as it was then)"})
    sections = fields.Nested(ContactSectionsSchema, required=True, metadata={
        "description": "each section asked for whose service this API routes to"})


@blueprint.get("/v1/contacts/<contact_id>/360")
@operation("A contact and what every service holds about it (labels, notes, attachments, invoices, quotes, cards, "
           "tasks, the first page of its timeline), each section read within a deadline: a slow or unavailable "
           "service leaves its section `timeout` or `unavailable`, not the whole read; with `as_of`, as they were at "
           "that moment; `GET /v1/contacts/{contact_id}?include=...` answers the same for the sections it names (and "
           "takes the same parameters, no other). The contact's own read is bounded too: a contacts service silent "
           "for CONTACT_READ_DEADLINE_S answers 504", tags=[RESOURCE], query_schema=Contact360QuerySchema,
           responses={200: Contact360Schema}, problems=(404, 422, 502, 503, 504), operation_id="getContact360")
def get_contact_360(contact_id: str) -> Response | tuple:
    return aggregated_read(contact_id)


def aggregated_read(contact_id: str) -> Response | tuple:
    """The contact with the sections the query's `include` names (none: all), as they were at its `as_of` if any;
    the contacts service's answer as it is when that is not the contact. Any other query parameter is refused
    naming it (422): a read that silently dropped one would answer something else than was asked."""
    container = current_container()
    caller = rate_limiting.admitted_caller(container)  # who asks first: a request without a key is a 401, not a 422
    auth.check_scope(caller, RESOURCE)
    query = Contact360QuerySchema().load(request.args.to_dict())
    as_of = None if query["as_of"] is None else query["as_of"].isoformat(timespec="microseconds")
    if contact_id in (".", ".."):
        raise NotFound(f"no resource /v1/{RESOURCE}/{contact_id}; see /docs for what this API offers")
    sections = requested_sections(query.get(INCLUDE), frozenset(container.upstreams))
    trace = request_context.current()
    reader = UpstreamReader(container.upstream_client, container.upstreams, {
        "X-Account-Id": caller.account_id, "X-Actor": f"api-key:{caller.key_id}",
        "X-Request-Id": trace.request_id, "X-Correlation-Id": trace.correlation_id})
    timeline = None
    past_timeline = as_of is not None and timeline_requested(query.get(INCLUDE))  # not asked: as_of_unsupported
    if as_of is None and timeline_requested(query.get(INCLUDE)):
        timeline = contact_timeline_api.timeline_section_asked(reader, contact_id)
    try:
        read = read_contact_360(reader, container.section_pool, contact_id, sections,
                                container.settings["CONTACT_SECTION_DEADLINE_S"],
                                container.settings["CONTACT_READ_DEADLINE_S"], as_of)
    except BaseException:
        if timeline is not None:
            timeline.abandon()
        raise
    if read.sections is None and timeline is not None:
        timeline.abandon()
    if read.sections is None:
        answer = read.contact_answer
        if answer.status_code >= 500 and "problem+json" not in answer.headers.get("Content-Type", ""):
            raise UpstreamFailed(f"the {CONTACTS_SERVICE} service failed ({answer.status_code}); retry later")
        return read_whole(answer)[0]
    if timeline is not None:
        return {"contact": read.contact_answer.json(),
                "sections": {**read.sections, TIMELINE: contact_timeline_api.timeline_section(timeline.merged())}}
    if past_timeline:
        return {"contact": read.contact_answer.json(),
                "sections": {**read.sections, TIMELINE: {"status": SectionStatus.AS_OF_UNSUPPORTED.value}}}
    return {"contact": read.contact_answer.json(), "sections": read.sections}
