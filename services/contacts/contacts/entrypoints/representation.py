"""The one JSON shape of a contact, whether it comes from the aggregate (after a write) or the view."""
from __future__ import annotations

from contacts.domain.model import EDITABLE_FIELDS, Contact

LIST_FIELDS = ("websites", "emails", "phones", "addresses")


EMPTY = {name: [] for name in LIST_FIELDS} | {"custom_fields": {}}


def _fields(source: dict) -> dict:
    return {name: source.get(name) or EMPTY.get(name) for name in EDITABLE_FIELDS}


def contact_from_aggregate(contact: Contact) -> dict:
    return {
        "id": contact.id,
        "revision": contact.revision,
        **_fields(contact.details),
        "labels": list(contact.details.get("labels", [])),
        "created_at": contact.created_at,
        "updated_at": contact.updated_at or None,
        "last_activity_at": contact.updated_at or None,
    }


def contact_from_view(doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "revision": doc["version"],
        **_fields(doc),
        "labels": list(doc.get("labels") or []),
        "created_at": doc["created_at"].isoformat(timespec="milliseconds"),
        "updated_at": doc["updated_at"].isoformat(timespec="milliseconds") if doc.get("updated_at") else None,
        "last_activity_at": doc["last_activity_at"].isoformat(timespec="milliseconds")
        if doc.get("last_activity_at") else None,
    }
