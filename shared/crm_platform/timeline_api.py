"""The page of a contact's timeline that every service with a `TimelineProjection` serves to the gateway.

`GET /v1/contact-timeline/{contact_id}?limit=&cursor=` answers a `TimelinePageSchema` with the service's own entries
about the contact, scoped to the caller's account like every other read. It is not published: it has no
`@operation`, so it is left out of the OpenAPI document. No gateway route leads to it either. Clients read the
merged timeline the gateway serves; the gateway calls each service here by its registry name.
"""
from __future__ import annotations

from flask import Blueprint, request

from crm_platform.timeline import TimelinePageSchema, TimelineProjection, TimelineQuerySchema
from crm_platform.web import account_id, current_container

TIMELINE_PATH = "/v1/contact-timeline/{contact_id}"


def timeline_blueprint() -> Blueprint:
    """The timeline page route on the TimelineProjection at `current_container().timeline`."""
    bp = Blueprint("contact_timeline", __name__)

    @bp.get(TIMELINE_PATH.replace("{contact_id}", "<contact_id>"))
    def contact_timeline(contact_id: str):
        query = TimelineQuerySchema().load(request.args.to_dict())
        projection: TimelineProjection = current_container().timeline
        items, next_cursor = projection.page(account_id(), contact_id, query["limit"], query["cursor"])
        return TimelinePageSchema().dump({"items": items, "next_cursor": next_cursor})

    return bp
