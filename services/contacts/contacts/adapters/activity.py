"""A contact's last activity: the time of the latest event about it, whatever aggregate recorded it."""
from __future__ import annotations

from datetime import datetime

from pymongo.collection import Collection

from crm_platform.id_guards import compare_and_set


def touch_last_activity(contacts: Collection, contact_id: str, at: datetime) -> None:
    """Move the contact's `last_activity_at` forward to `at` (never back; safe to repeat)."""
    at = as_stored(at)
    while True:
        doc = contacts.find_one({"_id": contact_id}, {"last_activity_at": 1})
        if doc is None:
            return  # not projected yet: its own event will set it
        current = doc.get("last_activity_at")
        if current is not None and current >= at:
            return
        where = compare_and_set(contacts, {"_id": contact_id, "last_activity_at": current})
        if contacts.update_one(where, {"$set": {"last_activity_at": at}}).matched_count == 1:
            return


def as_stored(at: datetime) -> datetime:
    """`at` as a BSON date holds it (milliseconds), so that comparisons with stored values are exact."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)
