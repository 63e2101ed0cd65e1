"""A contact's timeline: what each service did about one contact, newest first (issue 14, item 1).

Each service with something to say about a contact keeps a `TimelineProjection` of entries made from its own
events, and serves one page of it per request (a `TimelineQuerySchema` query, a `TimelinePageSchema` answer).
The gateway merges the services' pages into one timeline.

Everyone uses the same order: `at` descending, then `id` descending.
- Because the order is shared, a position in the merged timeline is just its last entry.
- A service resumes strictly after an entry with `timeline_cursor(at, id)`, the same keyset cursor its own pages
  carry. So the gateway needs no state and no per-service cursors.
- `at` is kept to the millisecond, which is what BSON dates hold. Entries of one millisecond are ordered by `id`.

Entry ids must be unique across services: use the id of the event that made the entry, with a suffix when one
event makes several entries.

An entry's `summary` holds only facts that are not personal data: numbers, amounts, states, stage ids and the names
of changed fields. It never holds values a person typed about someone, because entries are stored in clear and
outside crypto-shredding's reach. A service forgets a contact's entries when that contact is erased.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from marshmallow import fields, validate
from pymongo import DESCENDING
from pymongo.collection import Collection

from crm_platform.errors import InvalidInput
from crm_platform.http_schemas import StrictSchema
from crm_platform.pagination import encode_cursor, keyset_page
from crm_platform.versioned_documents import MongoVersionedDocuments

TIMELINE_SORT = "-at"
DEFAULT_TIMELINE_PAGE = 20
MAX_TIMELINE_PAGE = 100


@dataclass(frozen=True)
class TimelineEntry:
    id: str  # unique across services (see the module's doc)
    at: datetime  # when it happened: aware, or naive UTC
    kind: str  # dotted and stable, part of the contract: "contact.created", "invoice.paid", "card.moved"
    subject_type: str  # what it is about: "contact", "note", "message", "invoice", "card", ...
    subject_id: str
    summary: dict = field(default_factory=dict)  # a few facts that are not personal data (see the module's doc)


def utc_millis(at: datetime) -> datetime:
    """`at` as naive UTC to the millisecond, which is how MongoDB stores and returns it.
    Positions made on both sides of a round trip then compare equal."""
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def timeline_cursor(at: datetime, entry_id: str) -> str:
    """The cursor of the entries strictly after (`at`, `entry_id`) in timeline order, which every service takes."""
    return encode_cursor(TIMELINE_SORT, utc_millis(at), entry_id)


def entry_at(value: str) -> datetime:
    """The `at` of an entry as a service served it (RFC 3339); InvalidInput if it is not one."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise InvalidInput("a timeline entry's `at` is not a date-time", {"at": ["not an RFC 3339 date-time"]}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class TimelineProjection:
    """One service's timeline entries, one document per entry, read one contact at a time.

    Writes are idempotent: an entry's document is a pure function of its event, so it is upserted by id and a
    re-delivered event leaves the same document."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", 1), ("contact_id", 1), ("at", DESCENDING), ("_id", DESCENDING)],
                                     name="contact_timeline")

    def record(self, account_id: str, contact_id: str, entry: TimelineEntry) -> None:
        self.collection.replace_one({"_id": entry.id}, self._document(account_id, contact_id, entry), upsert=True)

    def record_many(self, account_id: str, contact_id: str, entries: list[TimelineEntry]) -> None:
        for entry in entries:
            self.record(account_id, contact_id, entry)

    def record_batch(self, entries: list[tuple[str, str, TimelineEntry]]) -> set[str]:
        """(account id, contact id, entry) of a polled batch in one unordered insert; the ids of the entries the
        server refused (record those one by one). An entry there already is left as it is: it is the same one."""
        documents = [self._document(account_id, contact_id, entry) for account_id, contact_id, entry in entries]
        return MongoVersionedDocuments(self.collection).insert_new(documents).refused

    def page(self, account_id: str, contact_id: str, limit: int = DEFAULT_TIMELINE_PAGE,
             cursor: str | None = None) -> tuple[list[dict], str | None]:
        """The entries of one contact after `cursor`, newest first, as the API serves them, and the next cursor."""
        docs, next_cursor = keyset_page(self.collection, {"account_id": account_id, "contact_id": contact_id},
                                        sort=TIMELINE_SORT, field="at", limit=limit, cursor=cursor, dated=True)
        return [self._served(doc) for doc in docs], next_cursor

    def move_contact(self, account_id: str, from_contact_id: str, to_contact_id: str) -> int:
        """Moves every entry about `from_contact_id` to `to_contact_id` (merged into it); how many moved. Idempotent:
        once moved, nothing is left to move. Keeps no erased contact out: TimelineFollower.move_contact does."""
        if from_contact_id == to_contact_id:
            return 0
        return self.collection.update_many({"account_id": account_id, "contact_id": from_contact_id},
                                           {"$set": {"contact_id": to_contact_id}}).modified_count

    def forget_contact(self, account_id: str, contact_id: str) -> int:
        """Deletes every entry about the contact (its erasure); how many there were."""
        return self.collection.delete_many({"account_id": account_id, "contact_id": contact_id}).deleted_count

    @staticmethod
    def _document(account_id: str, contact_id: str, entry: TimelineEntry) -> dict:
        return {"_id": entry.id, "account_id": account_id, "contact_id": contact_id, "at": utc_millis(entry.at),
                "kind": entry.kind, "subject": {"type": entry.subject_type, "id": entry.subject_id},
                "summary": dict(entry.summary)}

    @staticmethod
    def _served(doc: dict) -> dict:
        at = doc["at"].replace(tzinfo=timezone.utc) if doc["at"].tzinfo is None else doc["at"]
        return {"id": doc["_id"], "at": at, "kind": doc["kind"], "subject": doc["subject"],
                "summary": doc.get("summary", {})}


class TimelineQuerySchema(StrictSchema):
    """One page of a contact's timeline."""

    limit = fields.Integer(load_default=DEFAULT_TIMELINE_PAGE, validate=validate.Range(min=1, max=MAX_TIMELINE_PAGE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000),
                           metadata={"description": "the `next_cursor` of the previous page, or a position made "
                                                    "from an entry's `at` and `id` (the kernel's timeline_cursor)"})


class TimelineSubjectSchema(StrictSchema):
    type = fields.String(required=True, metadata={"example": "invoice"})
    id = fields.String(required=True)


class TimelineEntrySchema(StrictSchema):
    id = fields.String(required=True)
    at = fields.DateTime(required=True, metadata={"description": "when it happened (UTC, to the millisecond)"})
    kind = fields.String(required=True, metadata={"example": "invoice.issued"})
    subject = fields.Nested(TimelineSubjectSchema, required=True)
    summary = fields.Dict(required=True, metadata={"description": "a few facts that are not personal data"})


class TimelinePageSchema(StrictSchema):
    items = fields.List(fields.Nested(TimelineEntrySchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
