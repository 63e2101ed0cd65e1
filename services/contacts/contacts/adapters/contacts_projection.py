"""The `contacts` read model: one document per contact, built from contact events.

Every event carries the contact's full state, so applying the newest event is
enough and `versioned_upsert` makes re-delivery and replays harmless.
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING

from crm_platform.envelope import EventEnvelope
from crm_platform.mongo import insert_all_new
from crm_platform.personal_data import SubjectErased
from crm_platform.projections import Projection, versioned_upsert

from contacts.adapters.activity import as_stored, touch_last_activity
from contacts.adapters.search_keys import RETIRED_SEARCH_FIELDS, SEARCH_FIELD_NAMES, search_fields
from contacts.domain.events import PERSONAL_FIELDS, ContactCreated, ContactDeleted, ContactErased
from contacts.domain.model import OPTION_FIELDS, Contact

PROJECTED_FIELDS = (*PERSONAL_FIELDS, *OPTION_FIELDS)  # option keys are no personal data: kept in clear
CLEARED_ON_DELETE = (*PROJECTED_FIELDS, "labels", *SEARCH_FIELD_NAMES, *RETIRED_SEARCH_FIELDS)  # a tombstone keeps none


def view_fields(details: dict, created_at: str) -> dict:
    """What the read model keeps of a live contact: its fields, labels, search and sort keys."""
    fields = {name: details.get(name) for name in PROJECTED_FIELDS}
    fields["labels"] = list(details.get("labels", []))
    fields.update(search_fields(details))
    fields["created_at"] = datetime.fromisoformat(created_at)
    return fields


def live_fields(envelope: EventEnvelope, event) -> dict:
    """The read-model document of a live contact after this event (without its version)."""
    fields = {"account_id": envelope.account_id, "updated_at": envelope.occurred_at,
              **view_fields(event.details, event.created_at), "deleted": False}
    if envelope.aggregate_version == 1:
        # A new contact's first activity goes in with the insert: no second write on the hot path.
        fields["last_activity_at"] = as_stored(envelope.occurred_at)
    return fields


class ContactsProjection(Projection):
    aggregate_type = Contact.aggregate_type

    def ensure_indexes(self) -> None:
        self.collection.create_index(
            [("account_id", ASCENDING), ("deleted", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="account_listing",
        )
        # Search: one token by equality (contact_query.build_filter); multikey, one entry per token.
        self.collection.create_index([("account_id", ASCENDING), ("search_tokens", ASCENDING)], name="account_search")

    def insert_new(self, envelopes: list[EventEnvelope]) -> set[str]:
        """Insert the documents of new contacts (their first event) in one statement; the event ids inserted.

        For a batch of an import's events: one bulk insert instead of one per
        contact. A document that exists already (a redelivery) is left to `apply`.
        """
        docs, event_ids = [], []
        for envelope in envelopes:
            if envelope.aggregate_type != self.aggregate_type or envelope.aggregate_version != 1:
                continue
            try:
                event = self.codec.from_envelope(envelope)
            except SubjectErased:
                continue
            if not isinstance(event, ContactCreated):
                continue
            docs.append({"_id": envelope.aggregate_id, **live_fields(envelope, event), "version": 1})
            event_ids.append(envelope.event_id)
        refused = set(insert_all_new(self.collection, docs))
        return {event_id for i, event_id in enumerate(event_ids) if i not in refused}

    def apply(self, envelope: EventEnvelope, rebuilding: bool = False) -> bool:
        """Apply one contact event; True if it changed the view."""
        if envelope.aggregate_type != self.aggregate_type:
            return False
        key = envelope.aggregate_id
        stamp = {"account_id": envelope.account_id, "updated_at": envelope.occurred_at}
        try:
            event = self.codec.from_envelope(envelope)
        except SubjectErased:  # personal data shredded: keep nothing but the tombstone
            event = ContactErased(key, envelope.account_id)
        if isinstance(event, ContactErased):
            return versioned_upsert(
                self.collection, key, envelope.aggregate_version, {**stamp, "deleted": True, "erased": True},
                unset_fields=CLEARED_ON_DELETE, replace_same_version=rebuilding,
            )
        if isinstance(event, ContactDeleted):
            tombstone = {**stamp, "deleted": True, **({"merged_into": event.merged_into} if event.merged_into else {})}
            return versioned_upsert(
                self.collection, key, envelope.aggregate_version, tombstone,
                unset_fields=CLEARED_ON_DELETE, replace_same_version=rebuilding,
            )
        applied = versioned_upsert(self.collection, key, envelope.aggregate_version, live_fields(envelope, event),
                                   unset_fields=RETIRED_SEARCH_FIELDS, replace_same_version=rebuilding)
        if envelope.aggregate_version > 1:
            touch_last_activity(self.collection, key, envelope.occurred_at)
        return applied
