"""The one JSON shape of a contact, whether it comes from the aggregate (after a write) or the view."""
from __future__ import annotations

from contacts.domain.model import Contact


def contact_from_aggregate(contact: Contact) -> dict:
    d = contact.details
    return {
        "id": contact.id,
        "revision": contact.revision,
        "first_name": d.get("first_name"),
        "last_name": d.get("last_name"),
        "company": d.get("company"),
        "emails": d.get("emails", []),
        "phones": d.get("phones", []),
        "created_at": contact.created_at,
        "updated_at": contact.updated_at or None,
    }


def contact_from_view(doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "revision": doc["version"],
        "first_name": doc.get("first_name"),
        "last_name": doc.get("last_name"),
        "company": doc.get("company"),
        "emails": doc.get("emails") or [],
        "phones": doc.get("phones") or [],
        "created_at": doc["created_at"].isoformat(timespec="milliseconds"),
        "updated_at": doc["updated_at"].isoformat(timespec="milliseconds") if doc.get("updated_at") else None,
    }
