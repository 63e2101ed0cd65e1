"""Privacy's own projection of contacts (`contacts_directory`), from contacts.events: per account, each contact
and the contacts merged with it, so that a request names the person's whole merge family.

It decodes contacts' events as facts (crm_platform.contracts.contacts.ContactFact): ids only, no key needed,
no personal data kept. Every write is idempotent ($set, $addToSet): a redelivered event changes nothing.
"""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.collection import Collection

from crm_platform.contracts.contacts import (
    CONTACT_FACT_CLASSES, ContactCreatedFact, ContactDeletedFact, ContactErasedFact, ContactsMergedFact,
)
from crm_platform.envelope import EventEnvelope
from crm_platform.event_codec import EventCodec

MAX_FAMILY = 500  # merges are few per person; a bound keeps a corrupt cycle from looping


class ContactsDirectory:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self._codec = EventCodec(CONTACT_FACT_CLASSES)

    def ensure_indexes(self) -> None:
        self.collection.create_index([("account_id", ASCENDING), ("merged_into", ASCENDING)], name="merged_into")

    def apply(self, envelope: EventEnvelope) -> bool:
        """Take one event of contacts.events (others are passed over without decoding); True if it was a fact."""
        if not self._codec.knows(envelope.event_type):
            return False
        fact = self._codec.from_envelope(envelope)
        account = fact.account_id
        if isinstance(fact, ContactCreatedFact):
            self._set(account, fact.contact_id, {})
        elif isinstance(fact, ContactsMergedFact):
            self.collection.update_one({"_id": _key(account, fact.contact_id)},
                                       {"$set": {"account_id": account, "contact_id": fact.contact_id},
                                        "$addToSet": {"source_ids": {"$each": list(fact.source_ids)}}}, upsert=True)
            for source in fact.source_ids:
                self._set(account, source, {"merged_into": fact.contact_id})
        elif isinstance(fact, ContactDeletedFact):
            self._set(account, fact.contact_id, {"deleted": True, **(
                {"merged_into": fact.merged_into} if fact.merged_into else {})})
        elif isinstance(fact, ContactErasedFact):
            self._set(account, fact.contact_id, {"erased": True})
        return True

    def family(self, account_id: str, contact_id: str) -> list[str]:
        """The contact, the one it was merged into (and so on up), and every contact merged into any of them."""
        root, seen = contact_id, {contact_id}
        while len(seen) < MAX_FAMILY:
            doc = self.collection.find_one({"_id": _key(account_id, root)}, {"merged_into": 1})
            parent = doc and doc.get("merged_into")
            if not parent or parent in seen:
                break
            root = parent
            seen.add(root)
        frontier, members = [root], {root}
        while frontier and len(members) < MAX_FAMILY:
            docs = self.collection.find({"account_id": account_id, "$or": [
                {"merged_into": {"$in": frontier}}, {"_id": {"$in": [_key(account_id, c) for c in frontier]}}]},
                {"contact_id": 1, "source_ids": 1})
            found = []
            for doc in docs:
                for member in [doc["contact_id"], *doc.get("source_ids", [])]:
                    if member not in members:
                        members.add(member)
                        found.append(member)
            frontier = found
        return [contact_id, *sorted(m for m in members | seen if m != contact_id)]

    def _set(self, account_id: str, contact_id: str, fields: dict) -> None:
        self.collection.update_one({"_id": _key(account_id, contact_id)},
                                   {"$set": {"account_id": account_id, "contact_id": contact_id, **fields}},
                                   upsert=True)


def _key(account_id: str, contact_id: str) -> str:
    return f"{account_id}:{contact_id}"
