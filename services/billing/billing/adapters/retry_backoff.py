"""Backoff of the documents the scheduler or the issue sweep failed on, kept on their read-model documents.

A recurring invoice whose contact was deleted, or an issue that cannot be finished, fails again on
every round: left as it was, it stayed at the head of the scheduler's (or the sweep's) list, was
retried and logged every minute and, once there were as many as a round reads, held up every
document behind it. Each failure now sets `retry_after` on the document, sooner after the first
failures and at most a day later (`failures` counts them); the rounds skip a document until then
(billing/views.py, document_views.py). A new event of the document (an edit, a resume, an issue) has
its projection rewrite it without them: changed, it is tried at the next round.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.collection import Collection

FIELDS = ("failures", "retry_after")  # what the projections clear when the document changes
FIRST_DELAY = timedelta(minutes=1)
LONGEST_DELAY = timedelta(days=1)


def delay_after(failures: int) -> timedelta:
    """How long a document is left be after its `failures`-th failure in a row: doubling, at most a day."""
    return min(FIRST_DELAY * 2 ** min(failures - 1, 20), LONGEST_DELAY)


class RetryBackoff:
    """Records failures on the read models' documents, per kind ("invoice", "recurring_invoice"...)."""

    def __init__(self, collections: dict[str, Collection]) -> None:
        self._collections = collections

    def record_failure(self, kind: str, document_id: str, now: datetime) -> datetime | None:
        """Count one more failure of the document and set when to try it again (None if it has no document)."""
        collection = self._collections[kind]
        counted = collection.find_one_and_update({"_id": document_id}, {"$inc": {"failures": 1}},  # no projection:
                                                 return_document=ReturnDocument.AFTER)  # FerretDB 1.24 has none here
        if counted is None:
            return None
        retry_after = now + delay_after(counted["failures"])
        collection.update_one({"_id": document_id}, {"$set": {"retry_after": retry_after}})
        return retry_after


def not_held_back(now: datetime) -> dict:
    """The filter of documents not left be by a backoff at `now`."""
    return {"$or": [{"retry_after": {"$exists": False}}, {"retry_after": {"$lte": now}}]}


def pages(collection: Collection, mongo_filter: dict, sort_field: str, projection: dict, page_size: int):
    """Every document matching, in (sort_field, _id) order, read a page at a time (keyset: none twice, none missed
    however many there are)."""
    after: tuple | None = None
    while True:
        page_filter = mongo_filter if after is None else {"$and": [mongo_filter, {"$or": [
            {sort_field: {"$gt": after[0]}}, {sort_field: after[0], "_id": {"$gt": after[1]}}]}]}
        docs = list(collection.find(page_filter, {**projection, sort_field: 1})
                    .sort([(sort_field, 1), ("_id", 1)]).limit(page_size))
        yield from docs
        if len(docs) < page_size:
            return
        after = (docs[-1][sort_field], docs[-1]["_id"])
