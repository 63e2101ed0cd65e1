"""The `contacts` read model: one document per contact, built from contact events.

Every event carries the contact's full state, so an event's change is the
whole view of the contact (or a tombstone), and a batch of a contact's events
folds into its newest; the version kept in each document makes re-delivery and
replays harmless. The kernel writes a polled batch's changes in bulk
(crm_platform.projection_batches) or one event at a time (`apply`).
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from crm_platform import merges
from crm_platform.envelope import EventEnvelope
from crm_platform.personal_data import SubjectErased
from crm_platform.projections import DocumentChange, FoldingProjection

from contacts.adapters.activity import as_stored
from contacts.adapters.contact_numbers import ContactNumbers
from contacts.adapters.name_initials import INITIAL_FIELDS, NameInitials
from contacts.adapters.search_keys import RETIRED_SEARCH_FIELDS, SEARCH_FIELD_NAMES, search_fields
from contacts.domain.events import PERSONAL_FIELDS, ContactDeleted, ContactErased, ContactEvent
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
    """The read-model document of a live contact after this event (without its version and last activity)."""
    return {"account_id": envelope.account_id, "updated_at": envelope.occurred_at,
            **view_fields(event.details, event.created_at), "deleted": False}


class ContactsProjection(FoldingProjection):
    aggregate_type = Contact.aggregate_type

    def __init__(self, collection: Collection, codec) -> None:
        super().__init__(collection, codec)
        self.numbers = ContactNumbers(collection.database["contact_numbers"], collection)
        self.initials = NameInitials(collection.database["contact_list_markers"], collection)

    def new_documents(self, documents: list[dict]) -> None:
        """A contact first inserted gets the next creation number of its account (contact_numbers.py)."""
        self.numbers.number(documents)

    def ensure_indexes(self) -> None:
        self.collection.create_index(
            [("account_id", ASCENDING), ("deleted", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="account_listing",
        )
        self.numbers.begin_if_empty()
        # Lists sorted by creation read one bucket at a time (contact_pages.py).
        self.collection.create_index(
            [("account_id", ASCENDING), ("deleted", ASCENDING), ("list_bucket", DESCENDING),
             ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="account_creation_buckets",
        )
        # Search: one token by equality (contact_query.build_filter); multikey, one entry per token.
        self.collection.create_index([("account_id", ASCENDING), ("search_tokens", ASCENDING)], name="account_search")
        # Lists sorted by a name read one initial at a time (contact_pages.name_page, name_initials.py).
        self.initials.begin_if_empty()
        for name, initial in INITIAL_FIELDS.items():
            self.collection.create_index(
                [("account_id", ASCENDING), ("deleted", ASCENDING), (initial, ASCENDING), (name, ASCENDING),
                 ("_id", ASCENDING)],
                name=f"account_by_{name.removeprefix('sort_')}")

    def survivor(self, account_id: str, contact_id: str) -> str:
        """The contact this one was merged into (its tombstone keeps `merged_into`), followed through later merges
        (crm_platform.merges); itself if it was not merged. The timeline asks it for every event it records."""
        return merges.survivor(self.collection, account_id, contact_id)

    def event_of(self, envelope: EventEnvelope) -> ContactEvent:
        try:
            return self.codec.from_envelope(envelope)
        except SubjectErased:  # personal data shredded: keep nothing but the tombstone
            return ContactErased(envelope.aggregate_id, envelope.account_id)

    def change_for(self, envelope: EventEnvelope, event: ContactEvent) -> DocumentChange:
        stamp = {"account_id": envelope.account_id, "updated_at": envelope.occurred_at}
        if isinstance(event, ContactErased):
            return DocumentChange({**stamp, "deleted": True, "erased": True}, CLEARED_ON_DELETE)
        if isinstance(event, ContactDeleted):
            merged = {"merged_into": event.merged_into} if event.merged_into else {}
            return DocumentChange({**stamp, "deleted": True, **merged}, CLEARED_ON_DELETE)
        # the last activity moves with notes and files too (contact_items.py): forward only, never back
        return DocumentChange(live_fields(envelope, event), RETIRED_SEARCH_FIELDS,
                              forward={"last_activity_at": as_stored(envelope.occurred_at)})
