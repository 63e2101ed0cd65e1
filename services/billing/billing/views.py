"""Read-side queries on billing's read models."""
from __future__ import annotations

from pymongo.collection import Collection

MAX_MERGE_HOPS = 20  # a contact merged into one later merged again...: followed this far at most


def current_customer(customers: Collection, account_id: str, contact_id: str) -> dict | None:
    """The customer a document for `contact_id` is for now: the contact, or the one it was merged into (followed
    through later merges); None if billing never heard of it. A deleted (not merged) or erased one is returned
    with `deleted` set, for the caller to refuse."""
    doc = customers.find_one({"_id": contact_id, "account_id": account_id})
    for _ in range(MAX_MERGE_HOPS):
        if doc is None or not doc.get("merged_into"):
            return doc
        doc = customers.find_one({"_id": doc["merged_into"], "account_id": account_id})
    return doc
