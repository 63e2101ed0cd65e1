"""ContactsDirectory in MongoDB (`contacts`): one document per contact workflows heard of, gone or not."""
from __future__ import annotations

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from workflows.service_layer.ports import ContactsDirectory


class MongoContactsDirectory(ContactsDirectory):
    def __init__(self, contacts: Collection) -> None:
        self._contacts = contacts

    def unknown(self, account_id: str, contact_ids: list[str]) -> set[str]:
        found = self._contacts.find({"_id": {"$in": list(set(contact_ids))}, "account_id": account_id, "gone": False},
                                    {"_id": 1})
        return set(contact_ids) - {doc["_id"] for doc in found}

    def record_existing(self, account_id: str, contact_id: str) -> None:
        self._upsert(account_id, contact_id, {"$setOnInsert": {"gone": False}})

    def record_gone(self, account_id: str, contact_id: str) -> None:
        self._upsert(account_id, contact_id, {"$set": {"gone": True}})

    def _upsert(self, account_id: str, contact_id: str, update: dict) -> None:
        # the account in the filter: news of the same id from another account changes nothing here
        query = {"_id": contact_id, "account_id": account_id}
        try:
            self._contacts.update_one(query, update, upsert=True)
        except DuplicateKeyError:  # two upserts of a new id raced (it exists now), or it is another account's id
            self._contacts.update_one(query, update)
