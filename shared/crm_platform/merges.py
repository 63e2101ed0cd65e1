"""Following contact merges in a service's own record of its contacts.

Every service that keeps a projection of contacts records `merged_into` on a contact that a merge deleted. That
contact's history and documents are then its survivor's. The chain is followed through later merges, up to
MAX_MERGE_HOPS.

Each hop is one read by `_id`, an indexed shape on every server. The account is checked on the document read,
so a contact of another account never leads anywhere.
"""
from __future__ import annotations

MAX_MERGE_HOPS = 20  # a contact merged into one later merged again...: followed this far at most


def merged_document(collection, account_id: str, contact_id: str) -> dict | None:
    """The document of the contact `contact_id` is now: its own, or the one of the contact it was merged into
    (followed through later merges); None when the account has no such contact."""
    doc = _of_account(collection.find_one({"_id": contact_id}), account_id)
    for _ in range(MAX_MERGE_HOPS):
        if doc is None or not doc.get("merged_into"):
            return doc
        doc = _of_account(collection.find_one({"_id": doc["merged_into"]}), account_id)
    return doc


def survivor(collection, account_id: str, contact_id: str) -> str:
    """The contact `contact_id` was merged into, followed through later merges; itself when it was not merged
    (or is unknown here). The last contact named is the survivor, even one this record never saw created."""
    for _ in range(MAX_MERGE_HOPS):
        doc = _of_account(collection.find_one({"_id": contact_id}, {"account_id": 1, "merged_into": 1}), account_id)
        if doc is None or not doc.get("merged_into"):
            break
        contact_id = doc["merged_into"]
    return contact_id


def _of_account(doc: dict | None, account_id: str) -> dict | None:
    return doc if doc is not None and doc.get("account_id") == account_id else None
