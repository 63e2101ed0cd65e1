"""Creation numbers of an account's contacts, kept as buckets that a list sorted by creation reads one at a time.

FerretDB (the local server of `make run`) sorts in memory every document its pushed-down equalities
let through, and pushes no limit down with a filter: a page of the default list of an account of
100,000 contacts decoded all of them (tens of seconds, past the gateway's timeout). So the
projection gives each contact, when it first inserts it, the next number of its account (one `$inc`
of the account's counter per polled batch), and stores its `list_bucket` (number // BUCKET_SIZE):
an equality that any MongoDB server indexes and FerretDB pushes down, so a page sorted by creation
reads one bucket or a few (contact_pages.py). Numbers follow the order in which the projection
inserts contacts, which is their creation order but for contacts created within the same moments on
different partitions. Contacts stored before numbers existed are numbered below zero, in creation
order, by `number_unnumbered` (`rebuild-projection`); until then the lists read them after (or, oldest
first, before) the numbered ones, with one query that decodes the account on FerretDB.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone

from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_platform.mongo import update_by_ids
from crm_platform.pagination import in_utc

BUCKET_SIZE = 250  # contacts per bucket: what the worst page decodes on FerretDB (about 0.3-1.5 ms each)
# A document of the counters collection (account ids are UUIDs): every contact of the collection was numbered
# when inserted (it was empty when numbers began), or all were numbered since (number_unnumbered). Until it is
# there, every account may hold contacts without a number, and the lists also read those.
EVERY_CONTACT_NUMBERED = "(every contact numbered)"


@dataclass(frozen=True)
class BucketRange:
    """The buckets an account's numbered contacts are in, and whether it may hold live contacts without a number."""

    lowest: int
    highest: int  # below `lowest` when no contact was numbered
    unnumbered: bool

    def in_order(self, descending: bool) -> list[int | None]:
        """Every bucket, in the order a list reads them; None stands for the contacts without a number, which sort
        below every number (as a missing field does in MongoDB's order)."""
        numbered = list(range(self.lowest, self.highest + 1))
        unnumbered: list[int | None] = [None] if self.unnumbered else []
        return [*reversed(numbered), *unnumbered] if descending else [*unnumbered, *numbered]


class ContactNumbers:
    """Per-account counters (`next` counts up from 0 for new contacts, `low` down from 0 for those numbered later)."""

    def __init__(self, counters: Collection, contacts: Collection) -> None:
        self.counters = counters
        self.contacts = contacts

    def number(self, documents: list[dict]) -> None:
        """Give each live document about to be inserted the bucket of the next number of its account, in order."""
        by_account: dict[str, list[dict]] = defaultdict(list)
        for document in documents:
            if not document.get("deleted"):
                by_account[document["account_id"]].append(document)
        for account_id, account_documents in by_account.items():
            first = self._reserve(account_id, "next", len(account_documents))
            for offset, document in enumerate(account_documents):
                document["list_bucket"] = (first + offset) // BUCKET_SIZE

    def begin_if_empty(self) -> None:
        """At start-up: a collection without contacts will only ever hold numbered ones (a new deployment)."""
        if self.contacts.find_one({}, {"_id": 1}) is None:
            self.counters.update_one({"_id": EVERY_CONTACT_NUMBERED}, {"$set": {"since": "empty"}}, upsert=True)

    def buckets(self, account_id: str) -> BucketRange:
        counter = self.counters.find_one({"_id": account_id}) or {}
        unnumbered = counter.get("unnumbered", True)
        if unnumbered:  # no counter yet, or one made before every contact was numbered: the marker says
            unnumbered = not self._every_contact_numbered()
        return BucketRange(counter.get("low", 0) // BUCKET_SIZE, (counter.get("next", 0) - 1) // BUCKET_SIZE,
                           unnumbered)

    def number_unnumbered(self) -> int:
        """Number every live contact stored without a number, below the account's numbers, oldest lowest; then
        say that no account holds any. Once, after upgrading (`rebuild-projection`); returns how many."""
        found = self.contacts.find({"deleted": False, "list_bucket": {"$exists": False}},
                                   {"account_id": 1, "created_at": 1})
        by_account: dict[str, list[dict]] = defaultdict(list)
        for document in found:
            by_account[document["account_id"]].append(document)
        for account_id, documents in by_account.items():
            documents.sort(key=lambda d: (_aware(d.get("created_at")), d["_id"]))
            first = self._reserve(account_id, "low", -len(documents)) - len(documents)
            by_bucket: dict[int, list[str]] = defaultdict(list)
            for offset, document in enumerate(documents):
                by_bucket[(first + offset) // BUCKET_SIZE].append(document["_id"])
            for bucket, ids in by_bucket.items():
                update_by_ids(self.contacts, ids, {"$set": {"list_bucket": bucket}})
        # the marker first: a counter made meanwhile then says numbered too
        self.counters.update_one({"_id": EVERY_CONTACT_NUMBERED}, {"$set": {"since": "numbered"}}, upsert=True)
        self.counters.update_many({"_id": {"$ne": EVERY_CONTACT_NUMBERED}}, {"$set": {"unnumbered": False}})
        return sum(len(documents) for documents in by_account.values())

    def _reserve(self, account_id: str, end: str, count: int) -> int:
        """Move one end of the account's counter by `count`; its value before the move. A counter made now says
        whether the account may hold contacts older than it, without a number: not if every contact of the
        collection was numbered; else it may (looking would scan the account where `account_id` is not indexed,
        FerretDB over SQLite: seconds per new account on a consumer's path; the lists look instead, and
        `rebuild-projection` ends it). The marker is read only when the counter is missing: one statement for
        every batch but an account's first (each creation's, under a steady write load)."""
        before = self._move(account_id, {"$inc": {end: count}}, upsert=False)
        if before is None:  # the account's first reservation (or one racing it)
            move = {"$inc": {end: count}, "$setOnInsert": {"unnumbered": not self._every_contact_numbered()}}
            try:
                before = self._move(account_id, move)
            except DuplicateKeyError:  # two first reservations at once: the other one created the counter
                before = self._move(account_id, move)
        return (before or {}).get(end, 0)

    def _move(self, account_id: str, move: dict, upsert: bool = True) -> dict | None:
        return self.counters.find_one_and_update({"_id": account_id}, move, upsert=upsert,
                                                 return_document=ReturnDocument.BEFORE)

    def _every_contact_numbered(self) -> bool:
        return self.counters.find_one({"_id": EVERY_CONTACT_NUMBERED}, {"_id": 1}) is not None


def _aware(moment: datetime | None) -> datetime:
    """A creation time to sort by, in UTC (clients may read dates naive or aware); the earliest when missing."""
    return in_utc(moment) if moment is not None else datetime.min.replace(tzinfo=timezone.utc)
